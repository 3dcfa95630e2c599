import { KubeConfig, CoreV1Api, makeInformer, type Informer, type ObjectCache, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { KubectlSandbox } from '../helpers/kubectl-sandbox.ts';
import { startProxyHost, type ProxyHost } from '../helpers/servers.ts';

let fake: FakeCluster;
let proxy: ProxyHost;
let ca: ReturnType<typeof createCertificateAuthority>;

beforeAll(async () => {
  fake = await startFakeCluster({ name: 'clients', tokens: { 'svc-token': 'dashboard' } });
  ca = createCertificateAuthority({ commonName: 'dashboard CA' });
  proxy = await startProxyHost(
    { clusters: [{ name: 'own', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } }], share: { watches: { lingerMs: 100 } } },
    'node-http',
    ca.issue({ commonName: 'dashboard', ipAddresses: ['127.0.0.1'], usage: 'server' }),
  );
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'proxy', server: `${proxy.url}/clusters/own`, caData: Buffer.from(ca.cert).toString('base64') }],
    users: [{ name: 'robot', token: 'ignored-by-the-proxy' }],
    contexts: [{ name: 'ctx', cluster: 'proxy', user: 'robot', namespace: 'default' }],
    currentContext: 'ctx',
  });
  return kc;
}

const podNames = (pods: readonly { metadata?: { name?: string } }[]) => pods.map((p) => p.metadata?.name ?? '').sort();

describe('real clients through a shared watch', () => {
  it('two @kubernetes/client-node informers share one upstream watch and follow every change', async () => {
    const kc = kubeConfig();
    const api = kc.makeApiClient(CoreV1Api);
    const informers: (Informer<V1Pod> & ObjectCache<V1Pod>)[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const informer = makeInformer(kc, '/api/v1/namespaces/default/pods', () => api.listNamespacedPod({ namespace: 'default' }));
        informers.push(informer);
        await informer.start();
      }
      await expect.poll(() => fake.activeStreams('watch')).toBe(1);
      fake.addPod({ name: 'informed-1' });
      fake.addPod({ name: 'informed-2' });
      fake.updatePod('default', 'informed-1', { labels: { changed: 'yes' } });
      fake.deletePod('default', 'web-clients-2');
      const expected = podNames(fake.listObjects('v1', 'Pod', 'default'));
      for (const informer of informers) {
        await expect.poll(() => podNames(informer.list('default'))).toEqual(expected);
        await expect.poll(() => informer.get('informed-1', 'default')?.metadata?.labels?.changed).toBe('yes');
      }
      expect(fake.activeStreams('watch')).toBe(1);
    } finally {
      for (const informer of informers) await informer.stop();
      for (const name of ['informed-1', 'informed-2']) fake.deletePod('default', name);
      fake.addPod({ name: 'web-clients-2', labels: { app: 'web' } });
    }
  });

  it('two kubectl get pods -w (Tables) share one upstream watch and print the same changes', async () => {
    const sandbox = await KubectlSandbox.create({ proxy: { server: `${proxy.url}/clusters/own`, ca: ca.cert, token: 'ignored-by-the-proxy' } });
    const streams = [sandbox.stream('proxy', ['get', 'pods', '-w']), sandbox.stream('proxy', ['get', 'pods', '-w'])];
    try {
      for (const stream of streams) await expect.poll(() => stream.lines.join('\n'), { timeout: 15_000 }).toContain('worker-clients-1');
      await expect.poll(() => fake.activeStreams('watch'), { timeout: 15_000 }).toBe(1);
      fake.addPod({ name: 'seen-by-kubectl' });
      for (const stream of streams) await expect.poll(() => stream.lines.join('\n'), { timeout: 15_000 }).toContain('seen-by-kubectl');
      expect(fake.activeStreams('watch')).toBe(1);
      for (const stream of streams) expect(stream.stderr()).toBe('');
    } finally {
      for (const stream of streams) await stream.stop();
      await sandbox.remove();
      fake.deletePod('default', 'seen-by-kubectl');
    }
  }, 40_000);
});
