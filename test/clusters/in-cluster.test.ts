import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { composeClusters, inClusterCluster, InvalidOptionError, staticClusters, type ClusterResolverEvent } from 'kube-cluster-proxy';
import { send, startProxyHost } from '../helpers/servers.ts';

let fake: FakeCluster;
let dir: string;
beforeAll(async () => {
  fake = await startFakeCluster({ name: 'pod', tokens: { 'sa-token': 'system:serviceaccount:tools:dashboard' } });
  dir = await mkdtemp(join(tmpdir(), 'kcp-sa-'));
  await writeFile(join(dir, 'token'), 'sa-token\n');
  await writeFile(join(dir, 'ca.crt'), fake.ca);
});
afterAll(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

describe('inClusterCluster', () => {
  it("proxies to the pod's API server with the service-account token and CA", async () => {
    const { port } = new URL(fake.url);
    const resolver = inClusterCluster({
      env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port },
      tokenFile: join(dir, 'token'),
      caFile: join(dir, 'ca.crt'),
    });
    expect((await resolver.list()).map((c) => c.name)).toEqual(['in-cluster']);
    const host = await startProxyHost({ clusters: resolver });
    try {
      const res = await send(`${host.url}/clusters/in-cluster/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}',
      });
      expect(res.json()).toMatchObject({ status: { userInfo: { username: 'system:serviceaccount:tools:dashboard' } } });
    } finally {
      await host.close();
    }
  });

  it('brackets an IPv6 service address', async () => {
    const resolver = inClusterCluster({ env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, caFile: join(dir, 'ca.crt'), name: 'here' });
    expect((await resolver.resolve('here'))?.server).toBe('https://[fd00::1]:443');
  });

  it('says clearly when not running in a pod', () => {
    expect(() => inClusterCluster({ env: {} })).toThrow(InvalidOptionError);
    expect(() => inClusterCluster({ env: {} })).toThrow(/not running in a Kubernetes pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set/);
    expect(() => inClusterCluster({ env: { KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '1' }, caFile: join(dir, 'none') })).toThrow(/CA .*none cannot be read \(ENOENT\)/);
  });
});

describe('composeClusters', () => {
  it('resolves with the first resolver that knows a name and lists each name once', async () => {
    const first = staticClusters([{ name: 'a', server: 'https://first' }]);
    const second = staticClusters([{ name: 'a', server: 'https://second' }, { name: 'b', server: 'https://b' }]);
    const events: ClusterResolverEvent[] = [];
    const withEvents = { ...second, subscribe: (l: (e: ClusterResolverEvent) => void) => (l({ type: 'error', error: new Error('x') }), () => {}) };
    const composed = composeClusters(first, withEvents);
    expect((await composed.resolve('a'))?.server).toBe('https://first');
    expect((await composed.resolve('b'))?.server).toBe('https://b');
    expect(await composed.resolve('c')).toBeUndefined();
    expect((await composed.list()).map((c) => c.server)).toEqual(['https://first', 'https://b']);
    composed.subscribe?.((e) => events.push(e));
    expect(events).toHaveLength(1);
    expect(() => composeClusters(first, {} as never)).toThrow(/argument 1 is not a ClusterResolver/);
  });
});
