import { createServer, get, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { parseRequestInfo } from 'kube-cluster-proxy';
import { prometheusMetrics, MAX_LEARNED_CLUSTERS } from 'kube-cluster-proxy/metrics';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { closeServer, freePort, listen, send, startProxyHost, type ProxyHost } from '../helpers/servers.ts';
import { execQuery, runChannelSession } from '../helpers/websocket.ts';

/** `name{labels}` -> value, from the Prometheus text format. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

async function scrape(url: string): Promise<Map<string, number>> {
  const res = await send(url);
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
  return parseMetrics(res.body);
}

const series = (m: Map<string, number>, prefix: string) => [...m.keys()].filter((k) => k.startsWith(prefix));

describe('prometheusMetrics through a proxy', () => {
  let fake: FakeCluster;
  let host: ProxyHost;
  let metricsServer: Server;
  let metricsUrl: string;
  let fetches = 0;

  beforeAll(async () => {
    fake = await startFakeCluster({ name: 'met', tokens: { 'svc-token': 'svc', 'alice-token': 'alice' } });
    const metrics = prometheusMetrics();
    metricsServer = createServer(metrics.handler);
    metricsUrl = `${await listen(metricsServer)}/metrics`;
    host = await startProxyHost({
      clusters: [
        fake.clusterConfig('m', { token: 'svc-token' }),
        fake.clusterConfig('u'),
        { name: 'down', server: `http://127.0.0.1:${await freePort()}`, credentials: { token: 'svc-token' } },
        fake.clusterConfig('g', { getToken: () => (fetches++, Promise.resolve({ token: 'svc-token', expiresAt: new Date(Date.now() + 3_600_000) })) }),
      ],
      on: [metrics.hooks],
      logger: { warn: () => {}, error: () => {} },
    });
  });
  afterAll(async () => {
    await host.close();
    await closeServer(metricsServer);
    await fake.close();
  });

  it('counts a scripted mix exactly', async () => {
    const c = `${host.url}/clusters`;
    expect((await send(`${c}/m/api/v1/namespaces/default/pods`)).status).toBe(200);
    expect((await send(`${c}/m/api/v1/namespaces/default/pods`)).status).toBe(200);
    expect((await send(`${c}/m/api/v1/namespaces/default/pods/web-met-1`)).status).toBe(200);
    expect((await send(`${c}/m/api/v1/namespaces/default/pods/nope`)).status).toBe(404);
    expect((await send(`${c}/u/api/v1/namespaces/default/pods`, { headers: { authorization: 'Bearer wrong-token' } })).status).toBe(401);
    expect((await send(`${c}/down/version`)).status).toBe(502);
    expect((await send(`${c}/nosuch/version`)).status).toBe(404);
    expect((await send(`${c}/g/version`)).status).toBe(200);
    expect((await send(`${c}/g/version`)).status).toBe(200);
    const exec = await runChannelSession(`${c.replace('http', 'ws')}/m/api/v1/namespaces/default/pods/web-met-1/exec?${execQuery(['echo', 'hi'])}`, ['v5.channel.k8s.io']);
    expect(exec.ok).toBe(true);
    // A watch: counted once its headers arrive, whatever it streams later.
    await new Promise<void>((resolve, reject) => {
      get(`${c}/m/api/v1/namespaces/default/pods?watch=1`, (res) => {
        expect(res.statusCode).toBe(200);
        res.destroy();
        resolve();
      }).on('error', reject);
    });

    let m = await scrape(metricsUrl);
    for (let i = 0; i < 100 && m.get('kube_cluster_proxy_upgrades_open{cluster="m"}') !== 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      m = await scrape(metricsUrl);
    }
    const r = (labels: string) => m.get(`kube_cluster_proxy_requests_total{${labels}}`);
    expect(r('cluster="m",verb="list",resource="pods",code="200",source="cluster"')).toBe(2);
    expect(r('cluster="m",verb="get",resource="pods",code="200",source="cluster"')).toBe(1);
    expect(r('cluster="m",verb="get",resource="pods",code="404",source="cluster"')).toBe(1);
    expect(r('cluster="u",verb="list",resource="pods",code="401",source="cluster"')).toBe(1);
    expect(r('cluster="down",verb="get",resource="nonresource",code="502",source="proxy"')).toBe(1);
    expect(r('cluster="unknown",verb="get",resource="nonresource",code="404",source="proxy"')).toBe(1);
    expect(r('cluster="g",verb="get",resource="nonresource",code="200",source="cluster"')).toBe(2);
    expect(r('cluster="m",verb="get",resource="pods/exec",code="101",source="cluster"')).toBe(1);
    expect(r('cluster="m",verb="watch",resource="pods",code="200",source="cluster"')).toBe(1);
    expect(series(m, 'kube_cluster_proxy_requests_total{')).toHaveLength(9);

    expect(m.get('kube_cluster_proxy_upstream_errors_total{cluster="down",cause="refused"}')).toBe(1);
    expect(m.get('kube_cluster_proxy_upgrades_total{cluster="m",resource="pods/exec"}')).toBe(1);
    expect(m.get('kube_cluster_proxy_upgrades_open{cluster="m"}')).toBe(0);
    expect(m.get('kube_cluster_proxy_upgrade_bytes_total{cluster="m",direction="out"}')).toBeGreaterThan('hi\n'.length);
    expect(m.get('kube_cluster_proxy_upgrade_bytes_total{cluster="m",direction="in"}')).toBeGreaterThan(0);
    expect(fetches).toBe(1);
    expect(m.get('kube_cluster_proxy_credential_fetches_total{cluster="g",source="getToken",outcome="ok"}')).toBe(1);
    // Every response the cluster made (not the 502, not the unknown cluster) has a latency.
    const latencyCounts = series(m, 'kube_cluster_proxy_response_latency_seconds_count').map((k) => m.get(k)!);
    expect(latencyCounts.reduce((a, b) => a + b, 0)).toBe(8);
  });

  it('refuses to serve anything but GET and HEAD', async () => {
    const res = await send(metricsUrl, { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });
});

describe('prometheusMetrics labels', () => {
  it('keeps the series fixed under 10,000 distinct paths, clusters and users', async () => {
    const registry = new Registry();
    const { hooks } = prometheusMetrics({ registry, prefix: 'card_' });
    const feed = (i: number) => {
      const path = `/api/v1/namespaces/ns-${i}/pods/pod-${i}/exec`;
      const request = parseRequestInfo(i % 2 ? 'GET' : 'POST', path, `command=sh&token=t${i}`);
      const user = { name: `user-${i}@example.com`, groups: [`g${i}`], kind: 'user' as const, source: 'unknown' as const };
      // A cluster that never resolved: the proxy refused it, so it is not a configured one.
      hooks.audit!({
        time: new Date().toISOString(), requestId: String(i), cluster: undefined, user, identity: undefined, method: 'GET', request,
        upgrade: false, code: 404, source: 'proxy', durationMs: 1, clientAddress: `10.0.${i % 256}.${i >> 8}`, userAgent: `agent/${i}`,
      });
      const crd = parseRequestInfo('GET', `/apis/example${i}.com/v1/namespaces/n${i}/widget${i}s/w${i}`);
      hooks.audit!({
        time: new Date().toISOString(), requestId: `c${i}`, cluster: 'prod', user, identity: { kind: 'user', source: 'header' }, method: 'GET',
        request: crd, upgrade: false, code: 200 + (i % 3), source: 'cluster', durationMs: 1, clientAddress: undefined, userAgent: undefined,
      });
      hooks.error!({ error: Object.assign(new Error(`x ${i}`), { code: 'ERR_CLUSTER_NOT_FOUND' }) as never, cluster: `c-${i}`, identity: undefined, method: 'GET', path: `/p/${i}`, upgrade: false });
    };
    const count = async () => (await registry.getMetricsAsJSON()).reduce((n, metric) => n + (metric.values as unknown[]).length, 0);
    for (let i = 0; i < 100; i++) feed(i);
    const after100 = await count();
    for (let i = 100; i < 10_000; i++) feed(i);
    expect(await count()).toBe(after100);
    const text = await registry.metrics();
    expect(text).not.toMatch(/user-|pod-|ns-|widget|example|t\d/);
    expect(text).toContain('card_requests_total{cluster="unknown",verb="create",resource="pods/exec",code="404",source="proxy"} 5000');
  });

  it('learns at most MAX_LEARNED_CLUSTERS names, or only the names given', async () => {
    const learned = prometheusMetrics({ prefix: 'l_' });
    for (let i = 0; i < MAX_LEARNED_CLUSTERS + 500; i++) learned.hooks.credentialFetch!({ cluster: `c${i}`, source: 'exec', outcome: 'ok' });
    const json = await learned.registry.getMetricsAsJSON();
    const values = json.find((mt) => mt.name === 'l_credential_fetches_total')!.values;
    expect(values).toHaveLength(MAX_LEARNED_CLUSTERS + 1);
    expect(values.find((v) => v.labels.cluster === 'unknown')?.value).toBe(500);

    const fixed = prometheusMetrics({ prefix: 'f_', clusters: ['a'] });
    fixed.hooks.credentialFetch!({ cluster: 'a', source: 'exec', outcome: 'ok' });
    fixed.hooks.credentialFetch!({ cluster: 'b', source: 'exec', outcome: 'failed' });
    fixed.hooks.sessionRefresh!({ provider: 'default', outcome: 'ended' });
    fixed.hooks.tokenStoreError!({ error: new Error('down') });
    const m = parseMetrics(await fixed.registry.metrics());
    expect(m.get('f_credential_fetches_total{cluster="a",source="exec",outcome="ok"}')).toBe(1);
    expect(m.get('f_credential_fetches_total{cluster="unknown",source="exec",outcome="failed"}')).toBe(1);
    expect(m.get('f_session_refreshes_total{outcome="ended"}')).toBe(1);
    expect(m.get('f_token_store_errors_total')).toBe(1);
  });

  it('validates its options, naming them', () => {
    expect(() => prometheusMetrics({ prefix: '1bad' })).toThrow(/prefix/);
    expect(() => prometheusMetrics({ registry: {} as Registry })).toThrow(/registry/);
    expect(() => prometheusMetrics({ clusters: 'a' as never })).toThrow(/clusters/);
  });
});
