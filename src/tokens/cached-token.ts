import type { FetchedToken } from '../clusters/cluster-config.ts';
import type { TokenStore } from './token-store.ts';

/** Part of a token's lifetime, at most this long, given up so that it is never used right at expiry. */
const MAX_EXPIRY_MARGIN_MS = 30_000;

/**
 * Serves tokens from a {@link TokenStore}, fetching on a miss. Concurrent misses for one key share
 * a single fetch (single-flight), so 200 simultaneous requests cause one `getToken` call.
 */
export function createTokenCache(store: TokenStore, now: () => number) {
  const inFlight = new Map<string, Promise<string>>();

  function ttlOf(fetched: FetchedToken): number {
    if (fetched.expiresAt === undefined) return Infinity;
    const lifetime = fetched.expiresAt.getTime() - now();
    return lifetime - Math.min(MAX_EXPIRY_MARGIN_MS, lifetime / 10);
  }

  return {
    /** The cached token for `key`, or the result of `fetch` (stored until shortly before expiry). */
    async get(key: string, fetch: () => Promise<FetchedToken>): Promise<string> {
      const cached = await store.get(key);
      if (cached !== undefined) return cached;
      const pending = inFlight.get(key);
      if (pending) return pending;
      const started = (async () => {
        try {
          const fetched = await fetch();
          const ttl = ttlOf(fetched);
          // An already expired token is still handed to this request: the cluster decides.
          if (ttl > 0) await store.set(key, fetched.token, ttl);
          return fetched.token;
        } finally {
          inFlight.delete(key);
        }
      })();
      inFlight.set(key, started);
      return started;
    },
    /**
     * Forgets `key`, e.g. after the cluster answered `401` for its token. With `stale`, only while
     * the store still holds that value: a late `401` for a token already replaced must not throw
     * away its successor.
     */
    async invalidate(key: string, stale?: string): Promise<void> {
      if (stale !== undefined && (await store.get(key)) !== stale) return;
      await store.delete(key);
    },
  };
}

export type TokenCache = ReturnType<typeof createTokenCache>;
