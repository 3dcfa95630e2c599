import { afterEach, describe, expect, it, vi } from 'vitest';
import { StatusError } from '../../../src/testing/status.ts';
import { ObjectStore, type StoreEvent } from '../../../src/testing/store/object-store.ts';

const CONFIGMAPS = { group: '', resource: 'configmaps' };
const cm = (name: string, value: string, namespace = 'default') => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { value } });
const rv = (object: { metadata?: unknown }) => (object.metadata as { resourceVersion: string }).resourceVersion;

function statusOf(run: () => unknown): Record<string, unknown> {
  try {
    run();
  } catch (error) {
    if (error instanceof StatusError) return error.toStatus();
    throw error;
  }
  throw new Error('expected a StatusError');
}

afterEach(() => vi.useRealTimers());

describe('ObjectStore', () => {
  it('stamps every write with the next resourceVersion of one counter, as decimal strings', () => {
    const store = new ObjectStore(100);
    const a = store.create(CONFIGMAPS, cm('a', '1'));
    const b = store.create({ group: '', resource: 'secrets' }, { metadata: { name: 'b', namespace: 'default' } });
    const a2 = store.update(CONFIGMAPS, { ...cm('a', '2'), metadata: { name: 'a', namespace: 'default' } });
    expect([rv(a), rv(b), rv(a2)]).toEqual(['2', '3', '4']);
    expect(store.resourceVersion).toBe(4);
    expect(Object.isFrozen(a2.data)).toBe(true);
  });

  it('answers 409 AlreadyExists, 409 Conflict on a stale resourceVersion and 404, with the API Status bodies', () => {
    const store = new ObjectStore(100);
    const created = store.create(CONFIGMAPS, cm('a', '1'));
    expect(statusOf(() => store.create(CONFIGMAPS, cm('a', '1')))).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'configmaps "a" already exists',
      reason: 'AlreadyExists',
      details: { name: 'a', kind: 'configmaps' },
      code: 409,
    });
    store.update(CONFIGMAPS, cm('a', '2'), { resourceVersion: rv(created) });
    expect(statusOf(() => store.update(CONFIGMAPS, cm('a', '3'), { resourceVersion: rv(created) }))).toMatchObject({
      reason: 'Conflict',
      code: 409,
      message: 'Operation cannot be fulfilled on configmaps "a": the object has been modified; please apply your changes to the latest version and try again',
    });
    expect(statusOf(() => store.delete({ group: 'apps', resource: 'deployments' }, 'default', 'nope'))).toMatchObject({
      reason: 'NotFound',
      message: 'deployments.apps "nope" not found',
      details: { name: 'nope', group: 'apps', kind: 'deployments' },
    });
  });

  it('replays events after a resourceVersion and rebuilds lists as they were', () => {
    const store = new ObjectStore(100);
    store.create(CONFIGMAPS, cm('a', '1'));
    const listed = store.resourceVersion;
    store.create(CONFIGMAPS, cm('b', '1'));
    store.update(CONFIGMAPS, cm('a', '2'));
    store.delete(CONFIGMAPS, 'default', 'b');
    expect(store.eventsSince(listed)?.map((event: StoreEvent) => `${event.type} ${String((event.object.metadata as { name: string }).name)} ${event.resourceVersion}`)).toEqual([
      'ADDED b 3',
      'MODIFIED a 4',
      'DELETED b 5',
    ]);
    expect(store.listAt(CONFIGMAPS, 'default', listed)?.map((object) => (object.data as { value: string }).value)).toEqual(['1']);
    expect(store.listAt(CONFIGMAPS, undefined, 3)?.map((object) => (object.metadata as { name: string }).name)).toEqual(['a', 'b']);
  });

  it('keeps a bounded window of events and forgets them all on compact()', () => {
    const store = new ObjectStore(2);
    for (const name of ['a', 'b', 'c', 'd']) store.create(CONFIGMAPS, cm(name, '1'));
    expect(store.eventsSince(1)).toBeUndefined();
    expect(store.eventsSince(3)?.length).toBe(2);
    expect(store.listAt(CONFIGMAPS, undefined, 2)).toBeUndefined();
    store.compact();
    expect(store.eventsSince(4)).toBeUndefined();
    expect(store.eventsSince(5)).toEqual([]);
  });

  it('waits a while for a resourceVersion it has not reached', async () => {
    vi.useFakeTimers();
    const store = new ObjectStore(10);
    const reached = store.waitForRevision(2, 3000);
    store.create(CONFIGMAPS, cm('a', '1'));
    await expect(reached).resolves.toBe(true);
    const never = store.waitForRevision(10, 3000);
    await vi.advanceTimersByTimeAsync(3000);
    await expect(never).resolves.toBe(false);
  });
});
