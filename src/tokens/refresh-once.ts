import { setTimeout as sleep } from 'node:timers/promises';
import type { TokenStore } from './token-store.ts';

/** Options of {@link createRefreshOnce}. */
export interface RefreshOnceOptions {
  /** How long the lock is held at most, in ms: longer than a refresh can take. Default `30_000`. */
  lockTtlMs?: number;
  /** How often a waiting caller looks for the holder's result, in ms. Default `50`. */
  pollMs?: number;
  /** How long a caller waits for another holder before giving up, in ms. Default `lockTtlMs + 5_000`. */
  waitMs?: number;
}

/**
 * Runs a refresh at most once at a time per key, within this process (single-flight) and across
 * every process sharing the token store (its `tryLock`): the one that takes the lock refreshes,
 * the others wait for `current()` to show the result. Used for OIDC refresh grants, where two
 * refreshes with one rotating refresh token would end the session.
 */
export function createRefreshOnce(store: TokenStore, options: RefreshOnceOptions = {}) {
  const lockTtlMs = options.lockTtlMs ?? 30_000;
  const pollMs = options.pollMs ?? 50;
  const waitMs = options.waitMs ?? lockTtlMs + 5_000;
  const inFlight = new Map<string, Promise<unknown>>();

  async function acrossProcesses<T>(key: string, current: () => Promise<T | undefined>, refresh: () => Promise<T>): Promise<T> {
    if (!store.tryLock) return refresh();
    const deadline = performance.now() + waitMs;
    for (;;) {
      const lock = await store.tryLock(`lock:${key}`, lockTtlMs);
      if (lock) {
        try {
          // The previous holder may have refreshed while this caller waited for the lock.
          return (await current()) ?? (await refresh());
        } finally {
          await lock.release();
        }
      }
      await sleep(pollMs);
      const done = await current();
      if (done !== undefined) return done;
      if (performance.now() > deadline) throw new Error(`gave up waiting for another replica to refresh "${key}"`);
    }
  }

  return {
    /**
     * `current()` when it has a usable result, else the result of one `refresh()` for `key`
     * (this caller's or another's).
     */
    run<T>(key: string, current: () => Promise<T | undefined>, refresh: () => Promise<T>): Promise<T> {
      const pending = inFlight.get(key) as Promise<T> | undefined;
      if (pending) return pending;
      const started = acrossProcesses(key, current, refresh).finally(() => inFlight.delete(key));
      inFlight.set(key, started);
      return started;
    },
  };
}
