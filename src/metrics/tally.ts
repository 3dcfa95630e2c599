import type { Counter } from 'prom-client';

/**
 * Counter increments summed in a plain map on the request path and handed to prom-client when it
 * collects (a scrape): prom-client's `inc` validates and hashes its labels object on every call,
 * several microseconds under load, while a request here costs a string key and an addition. The
 * map holds one entry per label set, which the label functions bound.
 */
export function createTally<L extends string>(labelNames: readonly L[]) {
  const pending = new Map<string, { labels: Partial<Record<L, string>>; delta: number }>();
  return {
    /** Adds `delta` (default 1) for the label values, given in the order of `labelNames`. */
    add(values: readonly string[], delta = 1): void {
      const key = values.join('\u0001');
      const entry = pending.get(key);
      if (entry) {
        entry.delta += delta;
        return;
      }
      const labels: Partial<Record<L, string>> = {};
      labelNames.forEach((name, i) => (labels[name] = values[i]));
      pending.set(key, { labels, delta });
    },
    /** Moves what was added since the last flush into `counter`; its `collect` calls this. */
    flush(counter: Counter<L>): void {
      for (const entry of pending.values()) {
        if (entry.delta === 0) continue;
        counter.inc(entry.labels, entry.delta);
        entry.delta = 0;
      }
    },
  };
}
