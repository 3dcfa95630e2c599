import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { memoryTokenStore } from '../../src/tokens/memory-token-store.ts';
import { createRefreshOnce } from '../../src/tokens/refresh-once.ts';

describe('memoryTokenStore locks', () => {
  it('has one owner at a time, expires by itself, and releases only its own', async () => {
    let now = 1_000;
    const store = memoryTokenStore({ now: () => now });
    const first = await store.tryLock!('k', 100);
    expect(first).toBeDefined();
    expect(await store.tryLock!('k', 100)).toBeUndefined();
    now += 101; // the holder crashed: its lock expired
    const second = await store.tryLock!('k', 100);
    expect(second).toBeDefined();
    await first!.release(); // a stale release does not free the new owner's lock
    expect(await store.tryLock!('k', 100)).toBeUndefined();
    await second!.release();
    expect(await store.tryLock!('k', 100)).toBeDefined();
  });
});

describe('createRefreshOnce', () => {
  it('runs one refresh for concurrent callers of two "replicas" sharing a store', async () => {
    const store = memoryTokenStore();
    let refreshes = 0;
    const current = async () => store.get('token');
    const refresh = async () => {
      refreshes++;
      await sleep(30);
      await store.set('token', `fresh-${refreshes}`, 60_000);
      return `fresh-${refreshes}`;
    };
    // Two refreshers on one store stand for two processes: each has its own in-process single-flight.
    const replicas = [createRefreshOnce(store, { pollMs: 5 }), createRefreshOnce(store, { pollMs: 5 })];
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => replicas[i % 2]!.run('token', current, refresh)));
    expect(refreshes).toBe(1);
    expect(new Set(results)).toEqual(new Set(['fresh-1']));
  });

  it('propagates a failed refresh and lets the next caller try again', async () => {
    const store = memoryTokenStore();
    const once = createRefreshOnce(store);
    await expect(once.run('k', () => Promise.resolve(undefined), () => Promise.reject(new Error('invalid_grant')))).rejects.toThrow('invalid_grant');
    expect(await once.run('k', () => Promise.resolve(undefined), () => Promise.resolve('ok'))).toBe('ok');
  });

  it('gives up waiting for a holder that never produces a result', async () => {
    const store = memoryTokenStore();
    await store.tryLock!('lock:k', 10_000);
    const once = createRefreshOnce(store, { pollMs: 5, waitMs: 50 });
    await expect(once.run('k', () => Promise.resolve(undefined), () => Promise.resolve('never'))).rejects.toThrow(/gave up waiting/);
  });
});
