import type { ClientRequest, IncomingMessage } from 'node:http';

/**
 * Deadlines for upstream responses, checked by one sweeping timer rather than a timer per request:
 * on the hot path a request only adds and removes a map entry. A request is failed at most one
 * sweep period (a quarter of its timeout, at most a second) after its deadline.
 */
export function createResponseDeadlines(timeoutMs: number, onExpired: (request: ClientRequest) => void) {
  // Keyed by the client's request: the response event names it, not the request to the cluster.
  const deadlines = new Map<IncomingMessage, { request: ClientRequest; deadline: number }>();
  const period = Math.min(1_000, Math.max(10, timeoutMs / 4));
  let sweeper: NodeJS.Timeout | undefined;

  function sweep(): void {
    const now = performance.now();
    for (const [key, { request, deadline }] of deadlines) {
      if (request.destroyed) deadlines.delete(key);
      else if (deadline <= now) {
        deadlines.delete(key);
        onExpired(request);
      }
    }
    if (deadlines.size === 0 && sweeper) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  }

  return {
    /** Starts the clock for the request to the cluster made for `key`. */
    start(key: IncomingMessage, request: ClientRequest): void {
      deadlines.set(key, { request, deadline: performance.now() + timeoutMs });
      sweeper ??= setInterval(sweep, period).unref();
    },
    /** The response headers for `key` arrived. */
    stop(key: IncomingMessage): void {
      deadlines.delete(key);
    },
  };
}
