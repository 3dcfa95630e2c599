import { TooManyRequestsError } from '../errors.ts';
import type { Exchange } from '../pipeline/exchange.ts';
import type { ResolvedLimits } from './limit-options.ts';
import { limitUserKey } from './user-key.ts';

/** Seconds a refused client is told to wait: the API server's own answer to a full in-flight budget. */
const RETRY_AFTER_SECONDS = 1;

/** Whether an exchange holds its connection open (watch, followed log, upgrade) rather than being a short request. */
export function isStream(exchange: Exchange): boolean {
  return exchange.upgrade || exchange.streaming;
}

/** Counts per key, deleting a key when it reaches zero so that the map holds only what is in flight. */
class Counter {
  readonly #counts = new Map<string, number>();
  get(key: string): number {
    return this.#counts.get(key) ?? 0;
  }
  add(key: string, by: 1 | -1): void {
    const next = this.get(key) + by;
    if (next <= 0) this.#counts.delete(key);
    else this.#counts.set(key, next);
  }
}

/**
 * The in-flight counts behind `limits`. `acquire` either counts the exchange and returns its
 * release (idempotent: only its first call counts), or throws the `429`.
 */
export function createInFlightLimits(limits: ResolvedLimits) {
  const shortPerUser = new Counter();
  const streamsPerUser = new Counter();
  const shortPerCluster = new Counter();

  return {
    /**
     * @throws {TooManyRequestsError} when a limit is reached; nothing is counted then.
     */
    acquire(exchange: Exchange, clientAddress: string | undefined): () => void {
      const cluster = exchange.cluster.name;
      const user = limitUserKey(exchange, clientAddress);
      const refuse = (what: string, limit: number, name: string) =>
        new TooManyRequestsError(`${what} (${limit}, limits.${name}) to cluster "${cluster}": retry after ${RETRY_AFTER_SECONDS} s`, {
          cluster,
          retryAfterSeconds: RETRY_AFTER_SECONDS,
        });
      const taken: [Counter, string][] = [];
      if (isStream(exchange)) {
        if (streamsPerUser.get(user) >= limits.watchesPerUser) throw refuse('this user has as many watches and upgrades open as allowed', limits.watchesPerUser, 'watchesPerUser');
        taken.push([streamsPerUser, user]);
      } else {
        const userAtCluster = `${cluster}\u0000${user}`;
        if (shortPerUser.get(userAtCluster) >= limits.requestsPerUser) throw refuse('this user has as many requests in flight as allowed', limits.requestsPerUser, 'requestsPerUser');
        if (shortPerCluster.get(cluster) >= limits.requestsPerCluster) throw refuse('the proxy has as many requests in flight as allowed', limits.requestsPerCluster, 'requestsPerCluster');
        taken.push([shortPerUser, userAtCluster], [shortPerCluster, cluster]);
      }
      for (const [counter, key] of taken) counter.add(key, 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        for (const [counter, key] of taken) counter.add(key, -1);
      };
    },
  };
}

export type InFlightLimits = ReturnType<typeof createInFlightLimits>;
