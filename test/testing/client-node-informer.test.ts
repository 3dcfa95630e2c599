import { CoreV1Api, makeInformer, type Informer, type V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { kubeConfigFor } from './kit-helpers.ts';

let fake: FakeCluster;
let informer: Informer<V1ConfigMap> | undefined;

beforeAll(async () => {
  fake = await startFakeCluster({ pods: [], tokens: { t: 'admin' } });
});
afterEach(async () => {
  await informer?.stop();
  informer = undefined;
});
afterAll(() => fake.close());

const PATH = '/api/v1/namespaces/default/configmaps';
const configMap = (name: string, value: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { value } });

/** Starts an informer on the default namespace's configmaps, recording what it reports. */
async function startInformer(): Promise<{ log: string[]; state: () => Record<string, string | undefined> }> {
  const kc = kubeConfigFor(fake, { token: 't' });
  const api = kc.makeApiClient(CoreV1Api);
  const started = makeInformer(kc, PATH, () => api.listNamespacedConfigMap({ namespace: 'default' }));
  informer = started;
  const log: string[] = [];
  for (const verb of ['add', 'update', 'delete'] as const) started.on(verb, (cm) => log.push(`${verb} ${cm.metadata?.name ?? ''} ${cm.data?.value ?? ''}`));
  started.on('error', (error) => log.push(`error ${String(error)}`));
  await started.start();
  const state = () => Object.fromEntries(started.list('default').map((cm) => [cm.metadata?.name ?? '', cm.data?.value]));
  return { log, state };
}

const watchRequests = () => fake.requests.filter((request) => request.path.startsWith(`${PATH}?`) && request.path.includes('watch=true'));
const listRequests = () => fake.requests.filter((request) => request.path === PATH || (request.path.startsWith(`${PATH}?`) && !request.path.includes('watch=true')));

async function patch(name: string, value: string): Promise<void> {
  const kc = kubeConfigFor(fake, { token: 't' });
  await kc.makeApiClient(CoreV1Api).replaceNamespacedConfigMap({ name, namespace: 'default', body: { ...configMap(name, value), metadata: { name } } });
}

describe('@kubernetes/client-node informer against the fake', () => {
  it('sees creates, updates and deletes, and resumes from its last resourceVersion after dropWatches()', async () => {
    fake.addObject(configMap('first', '1'));
    fake.clearRequests();
    const { log, state } = await startInformer();
    await vi.waitFor(() => expect(fake.activeStreams('watch')).toBe(1));
    expect(log).toEqual(['add first 1']);
    fake.addObject(configMap('second', '1'));
    await patch('first', '2');
    fake.deleteObject('v1', 'ConfigMap', 'second');
    await vi.waitFor(() => expect(log).toEqual(['add first 1', 'add second 1', 'update first 2', 'delete second 1']));
    const lastSeen = fake.resourceVersion();

    fake.dropWatches();
    // Written while the informer has no watch: the resumed watch replays it from the kept window.
    fake.addObject(configMap('third', '1'));
    await vi.waitFor(() => expect(state()).toEqual({ first: '2', third: '1' }));
    expect(listRequests()).toHaveLength(1);
    expect(watchRequests().map((request) => new URL(request.path, 'https://x').searchParams.get('resourceVersion'))).toEqual([expect.stringMatching(/^\d+$/), lastSeen]);
    expect(log.at(-1)).toBe('add third 1');
    fake.deleteObject('v1', 'ConfigMap', 'first');
    fake.deleteObject('v1', 'ConfigMap', 'third');
  });

  it('relists after a 410 for a compacted resourceVersion, reporting what changed meanwhile', async () => {
    fake.addObject(configMap('kept', '1'));
    fake.addObject(configMap('gone', '1'));
    fake.clearRequests();
    const { log, state } = await startInformer();
    await vi.waitFor(() => expect(fake.activeStreams('watch')).toBe(1));
    fake.dropWatches();
    fake.deleteObject('v1', 'ConfigMap', 'gone');
    fake.addObject(configMap('fresh', '1'));
    fake.compact();
    await vi.waitFor(() => expect(state()).toEqual({ kept: '1', fresh: '1' }));
    expect(listRequests()).toHaveLength(2);
    expect(log).toEqual(expect.arrayContaining(['delete gone 1', 'add fresh 1']));
    expect(log.filter((entry) => entry.startsWith('error'))).toEqual([]);
    fake.deleteObject('v1', 'ConfigMap', 'kept');
    fake.deleteObject('v1', 'ConfigMap', 'fresh');
  });
});
