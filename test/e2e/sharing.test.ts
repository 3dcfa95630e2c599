import { request } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { send, startProxyHost, type ProxyHost } from '../helpers/servers.ts';

// share.discovery and share.reads against the fake, which records every request it gets: what
// reaches the cluster is counted there, not inferred from the proxy. Run once per engine (the
// requests the proxy does not share go through the engine).

const TTL_MS = 30_000;
let fake: FakeCluster;
let host: ProxyHost;
const clock = { now: Date.now() };

beforeAll(async () => {
  fake = await startFakeCluster({ name: 'share', tokens: { 'svc-token': { user: 'dashboard', groups: ['system:masters'] }, 'alice-token': 'alice', 'bob-token': 'bob' } });
  // 50 ConfigMaps of ~105 KB in namespace "big": a list of about 5 MiB.
  const data = 'x'.repeat(105 * 1024);
  for (let i = 0; i < 50; i++) fake.addObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'big' }, data: { blob: data } });
  host = await startProxyHost({
    clusters: [
      { name: 'own', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } },
      { name: 'users', server: fake.url, ca: fake.ca },
    ],
    share: { discovery: { ttlMs: TTL_MS }, reads: true },
    now: () => clock.now,
  });
});
afterAll(async () => {
  await host.close();
  await fake.close();
});
beforeEach(() => fake.clearRequests());

const upstream = (path: string) => fake.requests.filter((r) => r.path.split('?')[0] === path).length;
const get = (cluster: string, path: string, headers: Record<string, string> = {}) => send(`${host.url}/clusters/${cluster}${path}`, { headers });

describe('share.discovery', () => {
  it('answers 200 concurrent GET /apis with one upstream request, every client the same body', async () => {
    clock.now += TTL_MS; // nothing cached from another test
    const answers = await Promise.all(Array.from({ length: 200 }, () => get('own', '/apis')));
    expect(answers.map((a) => a.status)).toEqual(Array(200).fill(200));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect((JSON.parse(answers[0]!.body) as { kind: string }).kind).toBe('APIGroupList');
    expect(upstream('/apis')).toBe(1);
  });

  it('answers a matching If-None-Match with 304, making an ETag where the cluster sends none', async () => {
    clock.now += TTL_MS;
    const first = await get('own', '/api/v1');
    expect(first.status).toBe(200);
    const etag = first.headers.etag!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const revalidated = await get('own', '/api/v1', { 'if-none-match': etag });
    expect(revalidated.status).toBe(304);
    expect(revalidated.body).toBe('');
    expect(revalidated.headers.etag).toBe(etag);
    const other = await get('own', '/api/v1', { 'if-none-match': '"something-else"' });
    expect(other.status).toBe(200);
    expect(other.body).toBe(first.body);
    expect(upstream('/api/v1')).toBe(1);
  });

  it('keeps answers per Accept: aggregated and legacy discovery never mix', async () => {
    clock.now += TTL_MS;
    // The fake serves legacy discovery only: what shows the separation is the cluster asked twice,
    // and each Accept then served from its own entry.
    const legacy = () => get('own', '/apis', { accept: 'application/json' });
    const aggregated = () => get('own', '/apis', { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' });
    await legacy();
    await aggregated();
    expect(upstream('/apis')).toBe(2);
    await Promise.all([legacy(), aggregated()]);
    expect(upstream('/apis')).toBe(2);
    expect(fake.requests.map((r) => r.headers.accept)).toEqual([
      'application/json',
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json',
    ]);
  });

  it('refetches after the TTL', async () => {
    clock.now += TTL_MS;
    await get('own', '/version');
    clock.now += TTL_MS - 1;
    await get('own', '/version');
    expect(upstream('/version')).toBe(1);
    clock.now += 1;
    await get('own', '/version');
    expect(upstream('/version')).toBe(2);
  });

  it("invalidates the cluster's entries after a CRD is created through the proxy", async () => {
    clock.now += TTL_MS;
    const before = await get('own', '/apis');
    expect(before.body).not.toContain('widgets.example.com');
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    };
    const created = await send(`${host.url}/clusters/own/apis/apiextensions.k8s.io/v1/customresourcedefinitions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(crd),
    });
    expect(created.status).toBe(201);
    const after = await get('own', '/apis');
    expect(after.body).toContain('example.com');
    expect(upstream('/apis')).toBe(2);
  });

  it('fetches separately for each user token, and serves each its own afterwards', async () => {
    clock.now += TTL_MS;
    const alice = () => get('users', '/api', { authorization: 'Bearer alice-token' });
    const bob = () => get('users', '/api', { authorization: 'Bearer bob-token' });
    await Promise.all([alice(), bob(), alice(), bob()]);
    expect(upstream('/api')).toBe(2);
    expect((await alice()).status).toBe(200);
    expect((await bob()).status).toBe(200);
    expect(upstream('/api')).toBe(2);
    const users = fake.requests.filter((r) => r.path === '/api').map((r) => r.user);
    expect(users.sort()).toEqual(['alice', 'bob']);
  });

  it('never answers a refused token from the cache: its request goes to the cluster, and is refused again', async () => {
    clock.now += TTL_MS;
    expect((await get('users', '/api', { authorization: 'Bearer alice-token' })).status).toBe(200);
    for (let i = 1; i <= 2; i++) {
      const refused = await get('users', '/api', { authorization: 'Bearer mallory-token' });
      expect(refused.status).toBe(401);
      expect(refused.headers['x-kube-cluster-proxy-error']).toBeUndefined(); // the cluster's own answer
      expect(upstream('/api')).toBe(1 + i);
    }
    expect((await get('users', '/api', { authorization: 'Bearer alice-token' })).status).toBe(200);
    expect(upstream('/api')).toBe(3);
  });
});

/** A GET read to its end, as bytes. */
function fetchBytes(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('share.reads', () => {
  const LIST = '/api/v1/namespaces/big/configmaps';

  it('gives 20 concurrent clients of a 5 MiB list the same bytes from one upstream request', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => fetchBytes(`${host.url}/clusters/own${LIST}`)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(answers[0]!.body.length).toBeGreaterThan(5 * 1024 * 1024);
    for (const a of answers) expect(a.body.equals(answers[0]!.body)).toBe(true);
    const list = JSON.parse(answers[0]!.body.toString()) as { items: unknown[] };
    expect(list.items).toHaveLength(50);
    expect(upstream(LIST)).toBe(1);
  });

  it('does not share between user tokens', async () => {
    const path = '/api/v1/namespaces/big/configmaps?limit=2';
    const [a, b] = await Promise.all([
      fetchBytes(`${host.url}/clusters/users${path}`, { authorization: 'Bearer alice-token' }),
      fetchBytes(`${host.url}/clusters/users${path}`, { authorization: 'Bearer bob-token' }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(fake.requests.filter((r) => r.path.startsWith('/api/v1/namespaces/big/configmaps')).map((r) => r.user).sort()).toEqual(['alice', 'bob']);
  });

  it('a refused token shares nothing with an accepted one', async () => {
    const path = '/api/v1/namespaces/big/configmaps?limit=1';
    const [good, bad] = await Promise.all([
      fetchBytes(`${host.url}/clusters/users${path}`, { authorization: 'Bearer alice-token' }),
      fetchBytes(`${host.url}/clusters/users${path}`, { authorization: 'Bearer mallory-token' }),
    ]);
    expect(good.status).toBe(200);
    expect(bad.status).toBe(401);
    expect(bad.body.toString()).not.toContain('cm-0');
  });
});
