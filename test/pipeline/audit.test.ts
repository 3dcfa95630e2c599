import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AuditEvent } from 'kube-cluster-proxy';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { send, startProxyHost, type ProxyHost } from '../helpers/servers.ts';
import { execQuery, runChannelSession } from '../helpers/websocket.ts';

/** Tokens that look like tokens (43 base64url characters), each planted somewhere else. */
const planted = () => randomBytes(32).toString('base64url');
const ALICE = planted();
const SVC = planted();

let fake: FakeCluster;
let host: ProxyHost;
const events: AuditEvent[] = [];

async function waitFor(count: number): Promise<AuditEvent[]> {
  for (let i = 0; i < 200 && events.length < count; i++) await new Promise((r) => setTimeout(r, 10));
  return events;
}

function openSocket(url: string, protocols: string[], headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

beforeAll(async () => {
  fake = await startFakeCluster({ name: 'aud', tokens: { [ALICE]: { user: 'alice', groups: ['devs'] }, [SVC]: 'svc' } });
  host = await startProxyHost({
    clusters: [
      fake.clusterConfig('users'),
      { ...fake.clusterConfig('own', { token: SVC }) },
      { ...fake.clusterConfig('ro', { token: SVC }), policy: { readOnly: true } },
    ],
    on: [{ audit: (event) => void events.push(event) }, { audit: () => { throw new Error('a broken sink does not stop the others'); } }],
    logger: { warn: () => {}, error: () => {} },
  });
});
afterAll(async () => {
  await host.close();
  await fake.close();
});
beforeEach(() => {
  events.length = 0;
});

const ws = (path: string) => `${host.url.replace('http', 'ws')}${path}`;

describe('audit', () => {
  it('records one event per request with every field, one JSON.stringify from a JSON line', async () => {
    const res = await send(`${host.url}/clusters/users/api/v1/namespaces/default/pods/web-aud-1`, { headers: { authorization: `Bearer ${ALICE}`, 'user-agent': 'dashboard/1.0' } });
    expect(res.status).toBe(200);
    const [event] = await waitFor(1);
    expect(events).toHaveLength(1);
    expect(event).toMatchObject({
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      cluster: 'users',
      user: { name: undefined, kind: 'user', source: 'unknown' },
      identity: { kind: 'user', source: 'header' },
      method: 'GET',
      request: { isResourceRequest: true, verb: 'get', resource: 'pods', name: 'web-aud-1', namespace: 'default' },
      upgrade: false,
      code: 200,
      source: 'cluster',
      clientAddress: '127.0.0.1',
      userAgent: 'dashboard/1.0',
    });
    expect(Object.keys(event!).sort()).toEqual(['clientAddress', 'cluster', 'code', 'durationMs', 'identity', 'method', 'request', 'requestId', 'source', 'time', 'upgrade', 'user', 'userAgent']);
    expect(Date.parse(event!.time)).not.toBeNaN();
    expect(event!.durationMs).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(JSON.stringify(event))).toEqual(event);
  });

  it('gives every request its own id', async () => {
    await send(`${host.url}/clusters/own/version`);
    await send(`${host.url}/clusters/own/version`);
    await waitFor(2);
    expect(new Set(events.map((e) => e.requestId)).size).toBe(2);
  });

  it('records refusals by the proxy: no token, an unknown cluster, a policy denial with the user and request', async () => {
    expect((await send(`${host.url}/clusters/users/api/v1/pods`)).status).toBe(401);
    expect((await send(`${host.url}/clusters/nowhere/version`)).status).toBe(404);
    expect((await send(`${host.url}/clusters/ro/api/v1/namespaces/default/pods/web-aud-1`, { method: 'DELETE' })).status).toBe(403);
    await waitFor(3);
    expect(events).toHaveLength(3);
    expect(events[0]).toMatchObject({ cluster: 'users', code: 401, source: 'proxy', error: 'ERR_UNAUTHENTICATED', request: { verb: 'list', resource: 'pods' }, user: undefined });
    expect(events[1]).toMatchObject({ cluster: undefined, code: 404, source: 'proxy', error: 'ERR_CLUSTER_NOT_FOUND' });
    expect(events[2]).toMatchObject({
      cluster: 'ro',
      code: 403,
      source: 'proxy',
      error: 'ERR_POLICY_DENIED',
      user: { name: 'ro', kind: 'cluster', source: 'cluster' },
      request: { verb: 'delete', resource: 'pods', name: 'web-aud-1' },
    });
  });

  it('records an exec when it closes: command, bytes each way, protocol, and the cluster as closer', async () => {
    const result = await runChannelSession(ws(`/clusters/own/api/v1/namespaces/default/pods/web-aud-1/exec?${execQuery(['echo', 'hello', 'audit'])}`), ['v5.channel.k8s.io']);
    expect(result.ok).toBe(true);
    const [event] = await waitFor(1);
    expect(event).toMatchObject({
      cluster: 'own',
      upgrade: true,
      code: 101,
      source: 'cluster',
      protocol: 'v5.channel.k8s.io',
      command: ['echo', 'hello', 'audit'],
      request: { verb: 'get', resource: 'pods', subresource: 'exec' },
      closed: { reason: 'cluster' },
      identity: { kind: 'cluster' },
      user: { name: 'own', kind: 'cluster', source: 'cluster' },
      clientAddress: '127.0.0.1',
    });
    expect(Object.keys(event!).sort()).toEqual(
      ['bytes', 'clientAddress', 'closed', 'cluster', 'code', 'command', 'durationMs', 'identity', 'method', 'protocol', 'request', 'requestId', 'source', 'time', 'upgrade', 'user', 'userAgent'].sort(),
    );
    // The output ("hello audit\n" and the status on channel 3) came through.
    expect(event!.bytes!.out).toBeGreaterThan('hello audit\n'.length);
    expect(event!.bytes!.in).toBeGreaterThanOrEqual(0);
    expect(Date.parse(event!.closed!.time)).toBeGreaterThanOrEqual(Date.parse(event!.time));
  });

  it('tells a client that went away from a cluster that ended, with the bytes the client sent', async () => {
    const socket = await openSocket(ws(`/clusters/own/api/v1/namespaces/default/pods/web-aud-1/exec?${execQuery(['cat'], true)}`), ['v5.channel.k8s.io'], {});
    socket.send(Buffer.concat([Buffer.from([0]), Buffer.from('typed\n')]));
    await new Promise((r) => socket.once('message', r));
    socket.terminate();
    const [event] = await waitFor(1);
    expect(event).toMatchObject({ command: ['cat'], closed: { reason: 'client' } });
    expect(event!.bytes!.in).toBeGreaterThan('typed\n'.length);
  });
});

describe('audit of upgrades the proxy closes', () => {
  it("says 'drain' for a session a drain ended, and audits a WebSocket exec the policy refused", async () => {
    const local: AuditEvent[] = [];
    const own = await startProxyHost({ clusters: [fake.clusterConfig('own', { token: SVC }), { ...fake.clusterConfig('ro', { token: SVC }), policy: { readOnly: true } }], on: { audit: (e) => void local.push(e) } });
    const wsBase = `${own.url.replace('http', 'ws')}/clusters`;
    const refused = await runChannelSession(`${wsBase}/ro/api/v1/namespaces/default/pods/web-aud-1/exec?${execQuery(['sh'])}`, ['v5.channel.k8s.io']);
    expect(refused).toMatchObject({ ok: false, status: 403 });
    const socket = await openSocket(`${wsBase}/own/api/v1/namespaces/default/pods/web-aud-1/exec?${execQuery(['cat'], true)}`, ['v5.channel.k8s.io'], {});
    const gone = new Promise((r) => socket.once('close', r));
    await own.proxy.drain({ graceMs: 0 });
    await gone;
    await own.close();
    expect(local).toHaveLength(2);
    expect(local[0]).toMatchObject({ cluster: 'ro', upgrade: true, code: 403, source: 'proxy', error: 'ERR_POLICY_DENIED', command: ['sh'], request: { subresource: 'exec', verb: 'get' } });
    expect(local[1]).toMatchObject({ code: 101, closed: { reason: 'drain' }, command: ['cat'] });
  });

  it("says 'shutdown' for a session cut by close()", async () => {
    const local: AuditEvent[] = [];
    const own = await startProxyHost({ clusters: [fake.clusterConfig('own', { token: SVC })], on: { audit: (e) => void local.push(e) } });
    const socket = await openSocket(`${own.url.replace('http', 'ws')}/clusters/own/api/v1/namespaces/default/pods/web-aud-1/exec?${execQuery(['cat'], true)}`, ['v5.channel.k8s.io'], {});
    const gone = new Promise((r) => socket.once('close', r));
    await own.close();
    await gone;
    expect(local).toHaveLength(1);
    expect(local[0]).toMatchObject({ code: 101, closed: { reason: 'shutdown' } });
  });
});
