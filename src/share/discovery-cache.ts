import type { OutgoingHttpHeaders } from 'node:http';
import { LRUCache } from 'lru-cache';

/** One cached discovery answer: a `200` of the cluster, its body, and the entity tag clients revalidate with. */
export interface CachedAnswer {
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer;
  readonly etag: string;
  /** `now()` when it was fetched. */
  readonly storedAt: number;
}

/**
 * The discovery answers of every cluster, keyed per cluster, identity, `Accept` and path; served
 * within `ttlMs` of their fetch. Each cluster has a generation, bumped when its discovery changes:
 * a fill started before the change stores nothing, so an answer from before a CRD was created can
 * never outlive its creation.
 */
export function createDiscoveryCache(options: { ttlMs: number; maxEntries: number; now: () => number }) {
  const entries = new LRUCache<string, CachedAnswer>({ max: options.maxEntries });
  const generations = new Map<string, number>();
  const full = (cluster: string, key: string) => `${cluster}\u0000${key}`;

  return {
    /** A fresh answer, or `undefined` (an expired one is dropped). */
    get(cluster: string, key: string): CachedAnswer | undefined {
      const k = full(cluster, key);
      const entry = entries.get(k);
      if (entry === undefined) return undefined;
      const age = options.now() - entry.storedAt;
      // A clock that went back counts as expired too: the age cannot be trusted.
      if (age < options.ttlMs && age >= 0) return entry;
      entries.delete(k);
      return undefined;
    },
    /** The cluster's generation now: pass it back to `set`. */
    generation: (cluster: string): number => generations.get(cluster) ?? 0,
    /** Stores an answer fetched during `generation`; nothing when the cluster's discovery changed since. */
    set(cluster: string, key: string, answer: CachedAnswer, generation: number): void {
      if ((generations.get(cluster) ?? 0) === generation) entries.set(full(cluster, key), answer);
    },
    /** Forgets every answer of the cluster: its APIs changed. */
    invalidate(cluster: string): void {
      generations.set(cluster, (generations.get(cluster) ?? 0) + 1);
      const prefix = `${cluster}\u0000`;
      for (const k of [...entries.keys()]) if (k.startsWith(prefix)) entries.delete(k);
    },
  };
}

export type DiscoveryCache = ReturnType<typeof createDiscoveryCache>;
