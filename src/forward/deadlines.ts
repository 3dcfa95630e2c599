/** A running deadline; `stop()` when the awaited answer arrived. */
export interface Deadline {
  stop(): void;
}

/** Deadlines for answers from clusters, HTTP and upgrades alike. */
export interface Deadlines {
  /** Calls `expire` once `timeoutMs` have passed, unless stopped first. */
  start(timeoutMs: number, expire: () => void): Deadline;
  /** Stops the sweeper; running deadlines never expire. */
  close(): void;
}

/**
 * One mechanism for every deadline of a proxy: a sweeping timer rather than a timer per request,
 * so that the hot path only adds and removes a set entry. A deadline fires at most one sweep
 * period (a quarter of the shortest timeout, between 10 ms and 1 s) late.
 * @param now a monotonic clock in milliseconds, for tests. Default `performance.now`.
 */
export function createDeadlines(now: () => number = () => performance.now()): Deadlines {
  interface Entry extends Deadline {
    at: number;
    expire: () => void;
  }
  const running = new Set<Entry>();
  let period = 1_000;
  let sweeper: NodeJS.Timeout | undefined;

  function sweep(): void {
    const time = now();
    for (const entry of running) {
      if (entry.at <= time) {
        running.delete(entry);
        entry.expire();
      }
    }
    if (running.size === 0 && sweeper) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  }

  return {
    start(timeoutMs, expire) {
      const entry: Entry = { at: now() + timeoutMs, expire, stop: () => running.delete(entry) };
      running.add(entry);
      const wanted = Math.min(1_000, Math.max(10, timeoutMs / 4));
      if (wanted < period && sweeper) {
        clearInterval(sweeper);
        sweeper = undefined;
      }
      period = Math.min(period, wanted);
      sweeper ??= setInterval(sweep, period).unref();
      return entry;
    },
    close() {
      if (sweeper) clearInterval(sweeper);
      sweeper = undefined;
      running.clear();
    },
  };
}
