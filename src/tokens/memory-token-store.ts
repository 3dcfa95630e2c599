import { LRUCache } from 'lru-cache';
import { InvalidOptionError } from '../errors.ts';
import { checkKnownOptions } from '../known-options.ts';
import type { TokenStore } from './token-store.ts';

/** Options of {@link memoryTokenStore}. */
export interface MemoryTokenStoreOptions {
  /** Most entries kept; the least recently used is evicted beyond it. Default `10_000`. */
  max?: number;
  /** Clock in milliseconds (positive), for tests that move time instead of sleeping. Default `performance.now`. */
  now?: () => number;
}

const DEFAULTS = { max: 10_000 } satisfies MemoryTokenStoreOptions;

/**
 * The default {@link TokenStore}: an LRU cache in this process, bounded by `max`, entries expiring
 * after their TTL. Tokens are lost on restart and not shared between replicas.
 */
export function memoryTokenStore(options: MemoryTokenStoreOptions = {}): TokenStore {
  checkKnownOptions(options, ['max', 'now'], 'memoryTokenStore');
  const max = options.max ?? DEFAULTS.max;
  if (!Number.isInteger(max) || max < 1) {
    throw new InvalidOptionError(`memoryTokenStore: max must be a positive integer; got ${String(max)}`);
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new InvalidOptionError('memoryTokenStore: now must be a function returning milliseconds');
  }
  const now = options.now ?? (() => performance.now());
  const locks = new Map<string, { owner: symbol; until: number }>();
  const cache = new LRUCache<string, string>({
    max,
    // Check expiry against the clock on every read: a cached "now" would serve an expired token.
    ttlResolution: 0,
    ...(options.now ? { perf: { now: options.now } } : {}),
  });
  return {
    get: (key) => Promise.resolve(cache.get(key)),
    set: (key, value, ttlMs) => {
      if (!(ttlMs > 0)) return Promise.reject(new RangeError(`ttlMs must be positive; got ${ttlMs}`));
      cache.set(key, value, { ttl: Number.isFinite(ttlMs) ? Math.ceil(ttlMs) : 0 });
      return Promise.resolve();
    },
    delete: (key) => {
      cache.delete(key);
      return Promise.resolve();
    },
    tryLock: (key, ttlMs) => {
      const held = locks.get(key);
      if (held && held.until > now()) return Promise.resolve(undefined);
      const owner = Symbol(key);
      locks.set(key, { owner, until: now() + ttlMs });
      return Promise.resolve({
        release: () => {
          if (locks.get(key)?.owner === owner) locks.delete(key);
          return Promise.resolve();
        },
      });
    },
  };
}
