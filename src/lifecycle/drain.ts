import { InvalidOptionError } from '../errors.ts';
import type { CloseReason } from '../hooks.ts';
import type { Connections } from './connections.ts';

/** How `proxy.drain()` winds the proxy down. */
export interface DrainOptions {
  /**
   * Milliseconds requests in flight get to finish; exec, attach and port-forward connections are
   * closed when it is over, whatever else still runs. Default `30_000`.
   */
  graceMs?: number;
  /**
   * Milliseconds over which open watches and followed logs are ended, evenly, so that their
   * clients re-watch elsewhere one by one rather than all at once. At most `graceMs`. Default
   * `graceMs / 2`.
   */
  watchSpreadMs?: number;
}

/** Largest grace accepted: beyond a day a drain is a mistake, and timers overflow at ~24.8 days. */
const MAX_GRACE_MS = 24 * 60 * 60 * 1000;

/** How long connections ended at the end of the grace get to report their close. */
const SETTLE_MS = 1_000;

/** @throws {InvalidOptionError} naming the option that is not a number of milliseconds in range. */
export function validateDrainOptions(options: DrainOptions | undefined): Required<DrainOptions> {
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw new InvalidOptionError('drain() takes { graceMs, watchSpreadMs } or nothing');
  const graceMs = options?.graceMs ?? 30_000;
  if (typeof graceMs !== 'number' || !(graceMs >= 0 && graceMs <= MAX_GRACE_MS)) {
    throw new InvalidOptionError(`drain(): graceMs must be a number of milliseconds from 0 to ${MAX_GRACE_MS}; got ${String(graceMs)}`);
  }
  const watchSpreadMs = options?.watchSpreadMs ?? graceMs / 2;
  if (typeof watchSpreadMs !== 'number' || !(watchSpreadMs >= 0 && watchSpreadMs <= graceMs)) {
    throw new InvalidOptionError(`drain(): watchSpreadMs must be a number of milliseconds from 0 to graceMs (${graceMs}); got ${String(watchSpreadMs)}`);
  }
  return { graceMs, watchSpreadMs };
}

/**
 * When each of `count` streams is ended, in milliseconds from the start of a window of `windowMs`:
 * stream `i` in the middle of the `i`-th of `count` equal slots. Any tenth of the window then holds
 * a tenth of the streams (one more where a slot straddles its edge), and an end a few milliseconds
 * late (a busy event loop) stays in its own tenth rather than joining the next one's.
 */
export function spreadOffsets(count: number, windowMs: number): number[] {
  return Array.from({ length: count }, (_, i) => (windowMs * (i + 0.5)) / count);
}

/** What a drain needs from the proxy. */
export interface DrainDependencies {
  connections: Connections;
  /** Releases the rest (attachments, resolver, connections to clusters) once nothing is open. */
  release(): Promise<void>;
}

/**
 * The proxy's way down, run once: `drain()` ends streams spread over their window and everything
 * else at the end of the grace; `close()` during a drain cuts the grace short, and without one is a
 * drain with no grace at all.
 */
export function createDrain(deps: DrainDependencies) {
  const { connections } = deps;
  let running: Promise<void> | undefined;
  let cutShort: (() => void) | undefined;
  let reason: CloseReason = 'drain';

  async function run(graceMs: number, watchSpreadMs: number): Promise<void> {
    if (graceMs > 0) {
      const start = performance.now();
      const timers = new Set<NodeJS.Timeout>();
      const later = (ms: number, action: () => void) => timers.add(setTimeout(action, ms));
      const streams = connections.list().filter(([, c]) => c.kind === 'stream');
      spreadOffsets(streams.length, watchSpreadMs).forEach((at, i) => later(at, () => connections.end(streams[i]![0], reason)));
      // A request prepared before the drain may still open a stream: it goes at the end of the window.
      connections.onOpen((key, c) => {
        if (c.kind === 'stream') later(Math.max(0, start + watchSpreadMs - performance.now()), () => connections.end(key, reason));
      });
      await Promise.race([connections.idle(), new Promise<void>((resolve) => {
        cutShort = resolve;
        later(graceMs, resolve);
      })]);
      for (const timer of timers) clearTimeout(timer);
    }
    connections.onOpen((key) => connections.end(key, reason));
    connections.endAll(reason);
    // Everything ended closes within a tick or two; the release below destroys whatever did not.
    await Promise.race([connections.idle(), new Promise((resolve) => setTimeout(resolve, SETTLE_MS).unref())]);
    await deps.release();
  }

  return {
    /** Whether new requests and upgrades are refused. */
    draining: () => running !== undefined,
    /** Starts the drain, or returns the one under way. */
    drain: (options?: DrainOptions): Promise<void> => {
      if (running) return running;
      const { graceMs, watchSpreadMs } = validateDrainOptions(options);
      running = run(graceMs, watchSpreadMs);
      return running;
    },
    /** Ends what is left now; the reason hooks see is `'shutdown'`. */
    close: (): Promise<void> => {
      reason = 'shutdown';
      if (running) {
        cutShort?.();
        return running;
      }
      running = run(0, 0);
      return running;
    },
  };
}
