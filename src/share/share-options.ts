import { InvalidOptionError } from '../errors.ts';
import { checkKnownOptions } from '../known-options.ts';

/** How shared watches run (`share.watches`); every field is optional. */
export interface SharedWatchesOptions {
  /**
   * Milliseconds an upstream watch stays open after its last subscriber left, so that a page
   * reload or the next dashboard joins it instead of starting another. Default `30_000`.
   */
  lingerMs?: number;
  /**
   * Recent events kept per shared watch, for subscribers that start from a resourceVersion (an
   * informer after its list, a client resuming); one older than the window gets `410 Expired` and
   * relists. Default `1000` events.
   */
  windowEvents?: number;
  /** Bytes of recent events kept per shared watch, besides `windowEvents`. Default `16_777_216` (16 MiB). */
  windowBytes?: number;
  /**
   * Bytes queued for one subscriber that reads slower than events come: beyond them its stream
   * ends (it re-watches from its last resourceVersion) rather than slow the others or hold memory.
   * Default `8_388_608` (8 MiB).
   */
  maxQueuedBytes?: number;
}

/** What the proxy shares between clients (`share` option); nothing unless set. */
export interface ShareOptions {
  /**
   * Identical watches (same cluster, identity, `Accept`, path and selectors) share one upstream
   * watch, each subscriber served as the API server would serve it (its own resourceVersion,
   * bookmarks, `sendInitialEvents`, `timeoutSeconds`). `true` for the defaults, or the settings.
   * WebSocket and protobuf watches are never shared. See docs/sharing.md. Default: off.
   */
  watches?: boolean | SharedWatchesOptions;
}

/** `share.watches` with every default applied. */
export interface ResolvedWatchSharing {
  readonly lingerMs: number;
  readonly windowEvents: number;
  readonly windowBytes: number;
  readonly maxQueuedBytes: number;
}

export interface ResolvedShare {
  readonly watches: ResolvedWatchSharing | undefined;
}

export const SHARE_DEFAULTS = {
  lingerMs: 30_000,
  windowEvents: 1000,
  windowBytes: 16 * 1024 * 1024,
  maxQueuedBytes: 8 * 1024 * 1024,
} as const satisfies Required<SharedWatchesOptions>;

/** Timers overflow beyond this; byte and event counts are bounded by it too. */
const MAX = 2_147_483_647;

function bounded(value: unknown, name: string, min: number, unit: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX) {
    throw new InvalidOptionError(`${name} must be a whole number of ${unit} from ${min} to ${MAX}; got ${String(value)}`);
  }
  return value;
}

/**
 * Validates the `share` option once, at construction.
 * @throws {InvalidOptionError} naming the option and the rule.
 */
export function resolveShareOptions(share: ShareOptions | undefined): ResolvedShare {
  if (share === undefined) return { watches: undefined };
  if (typeof share !== 'object' || share === null) throw new InvalidOptionError('share must be an object such as { watches: true }');
  checkKnownOptions(share, ['watches'], 'share');
  const watches = share.watches;
  if (watches === undefined || watches === false) return { watches: undefined };
  if (watches !== true && (typeof watches !== 'object' || watches === null)) {
    throw new InvalidOptionError(`share.watches must be true, false or an object of settings; got ${JSON.stringify(watches)}`);
  }
  const given: SharedWatchesOptions = watches === true ? {} : watches;
  checkKnownOptions(given, ['lingerMs', 'windowEvents', 'windowBytes', 'maxQueuedBytes'], 'share.watches');
  return {
    watches: {
      lingerMs: bounded(given.lingerMs ?? SHARE_DEFAULTS.lingerMs, 'share.watches.lingerMs', 0, 'milliseconds'),
      windowEvents: bounded(given.windowEvents ?? SHARE_DEFAULTS.windowEvents, 'share.watches.windowEvents', 1, 'events'),
      windowBytes: bounded(given.windowBytes ?? SHARE_DEFAULTS.windowBytes, 'share.watches.windowBytes', 1024, 'bytes'),
      maxQueuedBytes: bounded(given.maxQueuedBytes ?? SHARE_DEFAULTS.maxQueuedBytes, 'share.watches.maxQueuedBytes', 1024, 'bytes'),
    },
  };
}
