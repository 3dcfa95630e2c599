import { propagation, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createServer } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { closeServer, listen, send, startProxyHost, type ProxyHost } from '../helpers/servers.ts';
import { execQuery } from '../helpers/websocket.ts';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
let fake: FakeCluster;
let host: ProxyHost;
let untraced: ProxyHost;

beforeAll(async () => {
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  fake = await startFakeCluster({ name: 'tr', tokens: { 'alice-token': { user: 'alice', groups: ['devs'] }, 'svc-token': 'svc' } });
  const gone = createServer();
  const goneUrl = await listen(gone);
  await closeServer(gone);
  const clusters = [
    { ...fake.clusterConfig('own', { token: 'svc-token' }) },
    { ...fake.clusterConfig('users'), identify: 'self-subject-review' as const },
    { ...fake.clusterConfig('ro', { token: 'svc-token' }), policy: { readOnly: true } },
    { name: 'gone', server: goneUrl, credentials: { token: 'svc-token' } },
    {
      ...fake.clusterConfig('broken'),
      credentials: {
        getToken: () => {
          throw new Error('vault sealed');
        },
      },
    },
  ];
  host = await startProxyHost({ clusters });
  untraced = await startProxyHost({ clusters, tracing: false });
});
afterAll(async () => {
  await host.close();
  await untraced.close();
  await fake.close();
  await provider.shutdown();
  trace.disable();
  propagation.disable();
});
beforeEach(() => {
  exporter.reset();
  fake.clearRequests();
});

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const CLIENT_TRACEPARENT = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`;

/** The finished spans, by name; waits (bounded) until `count` of them are there, since spans end when the client's side closes. */
async function spans(count: number): Promise<Map<string, ReadableSpan>> {
  for (let i = 0; i < 200 && exporter.getFinishedSpans().length < count; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  return new Map(exporter.getFinishedSpans().map((span) => [span.name, span]));
}

const parentOf = (span: ReadableSpan | undefined) => span?.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan | undefined) => span?.spanContext().spanId;

function traceparentAtFake(path: string): { traceId: string; parentId: string; flags: string } | undefined {
  const seen = fake.requests.find((r) => r.path.startsWith(path))?.headers.traceparent;
  const match = typeof seen === 'string' ? /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(seen) : null;
  return match ? { traceId: match[1]!, parentId: match[2]!, flags: match[3]! } : undefined;
}

describe('tracing with @opentelemetry/api', () => {
  it("continues the client's trace: a server span, its steps and the upstream span, whose context the cluster receives", async () => {
    const res = await send(`${host.url}/clusters/own/api/v1/namespaces/default/pods?limit=5`, { headers: { traceparent: CLIENT_TRACEPARENT, tracestate: 'client=1' } });
    expect(res.status).toBe(200);
    const all = await spans(4);
    const server = all.get('kube-cluster-proxy list pods');
    const prepare = all.get('prepare');
    const credentials = all.get('credentials');
    const upstream = all.get('kube-cluster-proxy upstream GET');
    expect([...all.keys()].sort()).toEqual(['credentials', 'kube-cluster-proxy list pods', 'kube-cluster-proxy upstream GET', 'prepare']);
    expect(server?.kind).toBe(SpanKind.SERVER);
    expect(server?.spanContext().traceId).toBe(CLIENT_TRACE);
    expect(parentOf(server)).toBe(CLIENT_SPAN);
    expect(server?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.path': '/api/v1/namespaces/default/pods',
      'http.response.status_code': 200,
      'k8s.cluster.name': 'own',
      'k8s.request.verb': 'list',
      'k8s.request.resource': 'pods',
      'k8s.namespace.name': 'default',
    });
    expect(JSON.stringify(server?.attributes)).not.toContain('limit=5');
    expect(server?.status.code).toBe(SpanStatusCode.UNSET);
    expect(parentOf(prepare)).toBe(idOf(server));
    expect(parentOf(credentials)).toBe(idOf(prepare));
    expect(upstream?.kind).toBe(SpanKind.CLIENT);
    expect(parentOf(upstream)).toBe(idOf(server));
    expect(upstream?.attributes).toMatchObject({ 'http.response.status_code': 200, 'server.address': '127.0.0.1', 'k8s.cluster.name': 'own' });
    // The cluster joins the trace under the upstream span; the client's own fields were replaced.
    expect(traceparentAtFake('/api/v1/namespaces/default/pods')).toEqual({ traceId: CLIENT_TRACE, parentId: idOf(upstream), flags: '01' });
    expect(fake.requests.at(-1)?.headers.tracestate).toBe('client=1');
  });

  it('starts a trace of its own when the client sends none, and traces the identify step', async () => {
    expect((await send(`${host.url}/clusters/users/api/v1/namespaces/default/pods/web-tr-1`, { headers: { authorization: 'Bearer alice-token' } })).status).toBe(200);
    const all = await spans(4);
    const server = all.get('kube-cluster-proxy get pods');
    expect(server?.parentSpanContext).toBeUndefined();
    expect(server?.attributes).toMatchObject({ 'k8s.request.name': 'web-tr-1', 'http.response.status_code': 200 });
    expect(parentOf(all.get('identify'))).toBe(idOf(all.get('prepare')));
    expect(all.has('credentials')).toBe(false);
    expect(traceparentAtFake('/api/v1/namespaces/default/pods/web-tr-1')).toMatchObject({ traceId: server?.spanContext().traceId, parentId: idOf(all.get('kube-cluster-proxy upstream GET')) });
    expect(JSON.stringify(exporter.getFinishedSpans().map((s) => s.attributes))).not.toContain('alice-token');
  });

  it('marks a 502 as an error, with the error code; a policy 403 is not an error and sends nothing upstream', async () => {
    expect((await send(`${host.url}/clusters/gone/version`)).status).toBe(502);
    let all = await spans(4);
    const failed = all.get('kube-cluster-proxy get');
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed?.attributes).toMatchObject({ 'http.response.status_code': 502, 'error.type': 'ERR_UPSTREAM_UNREACHABLE' });
    expect(all.get('kube-cluster-proxy upstream GET')?.status.code).toBe(SpanStatusCode.ERROR);

    exporter.reset();
    expect((await send(`${host.url}/clusters/ro/api/v1/namespaces/default/pods/web-tr-1`, { method: 'DELETE' })).status).toBe(403);
    all = await spans(2);
    const denied = all.get('kube-cluster-proxy delete pods');
    expect(denied?.attributes).toMatchObject({ 'http.response.status_code': 403, 'error.type': 'ERR_POLICY_DENIED' });
    expect(denied?.status.code).toBe(SpanStatusCode.UNSET);
    expect(all.get('prepare')).toMatchObject({ attributes: { 'error.type': 'ERR_POLICY_DENIED' }, status: { code: SpanStatusCode.UNSET } });
    expect(all.has('kube-cluster-proxy upstream DELETE')).toBe(false);
    expect(fake.requests).toEqual([]);
  });

  it('marks the credentials step that failed', async () => {
    const res = await send(`${host.url}/clusters/broken/version`);
    expect(res.status).toBe(503);
    const all = await spans(3);
    expect(all.get('credentials')).toMatchObject({ attributes: { 'error.type': 'ERR_CREDENTIALS_UNAVAILABLE' }, status: { code: SpanStatusCode.ERROR } });
    expect(parentOf(all.get('credentials'))).toBe(idOf(all.get('prepare')));
    expect(all.get('kube-cluster-proxy get')).toMatchObject({ attributes: { 'http.response.status_code': 503 }, status: { code: SpanStatusCode.ERROR } });
    expect(fake.requests).toEqual([]);
  });

  it('traces a WebSocket exec until the connection closes, and the upgrade carries the trace context', async () => {
    const url = `${host.url.replace('http', 'ws')}/clusters/own/api/v1/namespaces/default/pods/web-tr-1/exec?${execQuery(['cat'], true)}`;
    const ws = new WebSocket(url, ['v5.channel.k8s.io'], { headers: { traceparent: CLIENT_TRACEPARENT } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const upstream = (await spans(3)).get('kube-cluster-proxy upstream GET');
    expect(upstream?.attributes['http.response.status_code']).toBe(101);
    // Open: the request's span is still running.
    expect(exporter.getFinishedSpans().map((s) => s.name)).not.toContain('kube-cluster-proxy get pods/exec');
    const at = traceparentAtFake('/api/v1/namespaces/default/pods/web-tr-1/exec');
    expect(at).toEqual({ traceId: CLIENT_TRACE, parentId: idOf(upstream), flags: '01' });
    ws.close();
    const server = (await spans(4)).get('kube-cluster-proxy get pods/exec');
    expect(server?.attributes).toMatchObject({ 'http.response.status_code': 101, 'k8s.request.subresource': 'exec', 'http.request.header.upgrade': ['websocket'] });
    expect(server?.spanContext().traceId).toBe(CLIENT_TRACE);
  });

  it('with tracing: false, makes no span and passes the client’s traceparent through as today', async () => {
    expect((await send(`${untraced.url}/clusters/own/version`, { headers: { traceparent: CLIENT_TRACEPARENT } })).status).toBe(200);
    expect(fake.requests.at(-1)?.headers.traceparent).toBe(CLIENT_TRACEPARENT);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});
