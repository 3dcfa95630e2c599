import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { httpRequest, streamLines } from './kit-helpers.ts';

let fake: FakeCluster;

beforeAll(async () => {
  fake = await startFakeCluster({ pods: [], tokens: { t: 'admin' }, eventWindow: 50 });
});
afterAll(() => fake.close());
afterEach(async () => {
  fake.dropWatches();
  await vi.waitFor(() => expect(fake.activeStreams('watch')).toBe(0));
});

interface Event {
  type: string;
  object: { kind?: string; metadata: { name?: string; resourceVersion: string; annotations?: Record<string, string> }; code?: number; reason?: string };
}

const CMS = '/api/v1/namespaces/default/configmaps';
const events = (lines: readonly string[]) => lines.map((line) => JSON.parse(line) as Event);
const summary = (lines: readonly string[]) => events(lines).map((event) => `${event.type} ${event.object.metadata.name ?? ''}`);
const configMap = (name: string, labels: Record<string, string> = {}, value = '1') => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data: { value } });

function watch(query: string) {
  return streamLines(fake, `${CMS}?watch=true&${query}`, 't');
}

function patch(name: string, body: unknown) {
  return httpRequest(fake, `${CMS}/${name}`, { method: 'PATCH', headers: { Authorization: 'Bearer t', 'Content-Type': 'application/merge-patch+json' }, body: JSON.stringify(body) });
}

async function listResourceVersion(): Promise<string> {
  const list = await httpRequest(fake, CMS, { headers: { Authorization: 'Bearer t' } });
  return (JSON.parse(list.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
}

describe('watch semantics', () => {
  it('without a resourceVersion: synthetic ADDED events for what exists, then every write in order', async () => {
    fake.addObject(configMap('w-existing'));
    const stream = watch('labelSelector=');
    await vi.waitFor(() => expect(stream.lines).toHaveLength(1));
    fake.addObject(configMap('w-new'));
    await patch('w-new', { data: { value: '2' } });
    fake.deleteObject('v1', 'ConfigMap', 'w-existing');
    await vi.waitFor(() => expect(stream.lines).toHaveLength(4));
    expect(summary(stream.lines)).toEqual(['ADDED w-existing', 'ADDED w-new', 'MODIFIED w-new', 'DELETED w-existing']);
    const versions = events(stream.lines).slice(1).map((event) => Number(event.object.metadata.resourceVersion));
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(3);
    fake.deleteObject('v1', 'ConfigMap', 'w-new');
  });

  it('from a list resourceVersion: exactly the changes made after the list, even before the watch started', async () => {
    const listed = await listResourceVersion();
    fake.addObject(configMap('after-list'));
    fake.deleteObject('v1', 'ConfigMap', 'after-list');
    const stream = watch(`resourceVersion=${listed}`);
    await vi.waitFor(() => expect(summary(stream.lines)).toEqual(['ADDED after-list', 'DELETED after-list']));
    expect(events(stream.lines).every((event) => Number(event.object.metadata.resourceVersion) > Number(listed))).toBe(true);
  });

  it('answers a compacted resourceVersion with an ERROR event carrying the 410 Expired Status, then ends', async () => {
    const listed = await listResourceVersion();
    fake.addObject(configMap('before-compaction'));
    fake.compact();
    const stream = watch(`resourceVersion=${listed}`);
    await stream.ended;
    expect(events(stream.lines)).toEqual([
      {
        type: 'ERROR',
        object: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `too old resource version: ${listed} (${fake.resourceVersion()})`,
          reason: 'Expired',
          code: 410,
        },
      },
    ]);
    // From the current resourceVersion, it is fine again.
    const current = watch(`resourceVersion=${fake.resourceVersion()}`);
    await current.headers;
    fake.deleteObject('v1', 'ConfigMap', 'before-compaction');
    await vi.waitFor(() => expect(summary(current.lines)).toEqual(['DELETED before-compaction']));
  });

  it('keeps only eventWindow changes', async () => {
    const small = await startFakeCluster({ pods: [], tokens: { t: 'admin' }, eventWindow: 2 });
    try {
      const listed = small.resourceVersion();
      for (const name of ['a', 'b', 'c']) small.addObject(configMap(name));
      const stream = streamLines(small, `${CMS}?watch=1&resourceVersion=${listed}`, 't');
      await stream.ended;
      expect(events(stream.lines).map((event) => event.object.code)).toEqual([410]);
      await expect(startFakeCluster({ eventWindow: 0 })).rejects.toThrow(/eventWindow must be a positive integer/);
    } finally {
      await small.close();
    }
  });

  it('sends BOOKMARKs only when allowed, carrying the current resourceVersion', async () => {
    const withBookmarks = watch(`resourceVersion=${fake.resourceVersion()}&allowWatchBookmarks=true`);
    const without = watch(`resourceVersion=${fake.resourceVersion()}`);
    await Promise.all([withBookmarks.headers, without.headers]);
    fake.sendBookmarks();
    fake.addObject(configMap('after-bookmark'));
    await vi.waitFor(() => expect(without.lines).toHaveLength(1));
    await vi.waitFor(() => expect(withBookmarks.lines).toHaveLength(2));
    const [bookmark] = events(withBookmarks.lines);
    expect(bookmark).toEqual({ type: 'BOOKMARK', object: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: expect.stringMatching(/^\d+$/) as unknown, creationTimestamp: null } } });
    expect(summary(without.lines)).toEqual(['ADDED after-bookmark']);
    fake.deleteObject('v1', 'ConfigMap', 'after-bookmark');
  });

  it('sendInitialEvents: the current objects, then the bookmark annotated k8s.io/initial-events-end', async () => {
    fake.addObject(configMap('initial'));
    const stream = watch('sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true');
    await vi.waitFor(() => expect(stream.lines).toHaveLength(2));
    const [added, end] = events(stream.lines);
    expect(added?.type).toBe('ADDED');
    expect(end).toMatchObject({ type: 'BOOKMARK', object: { metadata: { annotations: { 'k8s.io/initial-events-end': 'true' }, resourceVersion: fake.resourceVersion() } } });
    fake.deleteObject('v1', 'ConfigMap', 'initial');
    await vi.waitFor(() => expect(summary(stream.lines).at(-1)).toBe('DELETED initial'));
  });

  it('refuses inconsistent watch-list parameters with 422 Invalid', async () => {
    for (const query of ['sendInitialEvents=true', 'sendInitialEvents=true&resourceVersionMatch=NotOlderThan', 'resourceVersionMatch=NotOlderThan', 'resourceVersionMatch=Sometimes']) {
      const answer = await httpRequest(fake, `${CMS}?watch=true&${query}`, { headers: { Authorization: 'Bearer t' } });
      expect({ query, status: answer.status }).toEqual({ query, status: 422 });
      expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', reason: 'Invalid', message: expect.stringMatching(/^ListOptions\.meta\.k8s\.io "" is invalid: /) as unknown });
    }
  });

  it('turns objects leaving or joining a label selector into DELETED and ADDED', async () => {
    fake.addObject(configMap('mover', { tier: 'a' }));
    const stream = watch(`resourceVersion=${fake.resourceVersion()}&labelSelector=tier%3Da`);
    await stream.headers;
    await patch('mover', { metadata: { labels: { tier: 'b' } } });
    await patch('mover', { metadata: { labels: { tier: 'a' } } });
    await vi.waitFor(() => expect(summary(stream.lines)).toEqual(['DELETED mover', 'ADDED mover']));
    fake.deleteObject('v1', 'ConfigMap', 'mover');
  });

  it('waits for a resourceVersion it has not reached yet', async () => {
    const next = Number(fake.resourceVersion()) + 1;
    const stream = watch(`resourceVersion=${next}`);
    fake.addObject(configMap('future'));
    fake.addObject(configMap('future-2'));
    await vi.waitFor(() => expect(summary(stream.lines)).toEqual(['ADDED future-2']));
    fake.deleteObject('v1', 'ConfigMap', 'future');
    fake.deleteObject('v1', 'ConfigMap', 'future-2');
  });

  it('watches one object by name; ends on dropWatches() and after timeoutSeconds', async () => {
    fake.addObject(configMap('single'));
    const byName = streamLines(fake, '/api/v1/watch/namespaces/default/configmaps/single', 't');
    const all = watch(`resourceVersion=${fake.resourceVersion()}`);
    await Promise.all([byName.headers, all.headers]);
    fake.addObject(configMap('other'));
    fake.deleteObject('v1', 'ConfigMap', 'single');
    await vi.waitFor(() => expect(summary(byName.lines)).toEqual(['ADDED single', 'DELETED single']));
    await vi.waitFor(() => expect(summary(all.lines)).toEqual(['ADDED other', 'DELETED single']));
    expect(fake.activeStreams('watch')).toBe(2);
    fake.dropWatches();
    await Promise.all([byName.ended, all.ended]);
    expect(fake.activeStreams('watch')).toBe(0);
    const timed = watch(`resourceVersion=${fake.resourceVersion()}&timeoutSeconds=1`);
    await timed.ended;
    expect(timed.lines).toEqual([]);
    fake.deleteObject('v1', 'ConfigMap', 'other');
  });
});
