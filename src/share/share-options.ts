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

/** How long discovery answers are kept, and how much of them. */
export interface DiscoveryShareOptions {
  /** Milliseconds an answer is served from the cache before the next request refetches it. Default `30_000`. */
  ttlMs?: number;
  /** Most answers kept over all clusters, identities and `Accept` headers (least recently used go first). Default `1000`. */
  maxEntries?: number;
  /** Largest answer kept, in bytes; a larger one is forwarded to each client, uncached. Default `8 MiB` (`8_388_608`). */
  maxBodyBytes?: number;
}

/** How identical concurrent reads share one upstream request. */
export interface ReadShareOptions {
  /**
   * Bytes of a shared response kept for clients that join after its body began. Once the body is
   * longer, later identical requests get a request of their own. Default `16 MiB` (`16_777_216`).
   */
  maxBufferBytes?: number;
}

/**
 * What requests share upstream, each part on its own and off unless given. Requests share only
 * when the cluster would see the same identity: the same cluster with its own credentials, the
 * same user token (compared by a keyed hash), or in `'impersonate'` mode the same verified user
 * and groups. See docs/sharing.md.
 */
export interface ShareOptions {
  /**
   * Identical watches (same cluster, identity, `Accept`, path and selectors) share one upstream
   * watch, each subscriber served as the API server would serve it (its own resourceVersion,
   * bookmarks, `sendInitialEvents`, `timeoutSeconds`). `true` for the defaults, or the settings.
   * WebSocket and protobuf watches are never shared. Default: off.
   */
  watches?: boolean | SharedWatchesOptions;
  /**
   * Discovery (`/api`, `/api/<v>`, `/apis`, `/apis/<g>`, `/apis/<g>/<v>`, `/version`,
   * `/openapi/v2`, `/openapi/v3`) served from a cache per cluster, identity and `Accept`, with
   * `ETag` / `If-None-Match` answered `304`: `true` for the defaults. Default: off.
   */
  discovery?: boolean | DiscoveryShareOptions;
  /**
   * Identical concurrent GETs of one identity (not watches, followed logs, `log` or `proxy`
   * subresources) share one upstream request: `true` for the defaults. Default: off.
   */
  reads?: boolean | ReadShareOptions;
}

/** {@link ShareOptions} after validation: `undefined` for a part that is off. */
export interface ResolvedShare {
  readonly watches: Readonly<Required<SharedWatchesOptions>> | undefined;
  readonly discovery: Readonly<Required<DiscoveryShareOptions>> | undefined;
  readonly reads: Readonly<Required<ReadShareOptions>> | undefined;
}

/** `share.watches` with every default applied. */
export type ResolvedWatchSharing = NonNullable<ResolvedShare['watches']>;

export const SHARE_DEFAULTS = {
  watches: { lingerMs: 30_000, windowEvents: 1000, windowBytes: 16 * 1024 * 1024, maxQueuedBytes: 8 * 1024 * 1024 },
  discovery: { ttlMs: 30_000, maxEntries: 1000, maxBodyBytes: 8 * 1024 * 1024 },
  reads: { maxBufferBytes: 16 * 1024 * 1024 },
} as const;

/** Timers overflow beyond this; byte and event counts are bounded by it too. */
const MAX = 2_147_483_647;

/** A given value as a message shows it: JSON where it has one (`undefined` and functions have none). */
function shown(value: unknown): string {
  return JSON.stringify(value) ?? typeof value;
}

function wholeNumber(value: unknown, name: string, min: number, max: number, unit: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(`${name} must be a whole number of ${unit} from ${min} to ${max}; got ${shown(value)}`);
  }
  return value;
}

/** A part given as `true` (the defaults), `false`/`undefined` (off) or an object of its settings. */
function part<T extends object>(value: unknown, name: string, settings: readonly (keyof T & string)[]): T | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {} as T;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(`${name} must be true, false or an object of settings; got ${shown(value)}`);
  }
  checkKnownOptions(value as T, settings, name);
  return value as T;
}

/**
 * Validates the `share` option once, at construction.
 * @throws {InvalidOptionError} naming the setting and the rule.
 */
export function resolveShareOptions(share: unknown): ResolvedShare {
  if (share === undefined) return { watches: undefined, discovery: undefined, reads: undefined };
  if (typeof share !== 'object' || share === null || Array.isArray(share)) {
    throw new InvalidOptionError('share must be an object such as { watches: true, discovery: true, reads: true }');
  }
  checkKnownOptions(share as ShareOptions, ['watches', 'discovery', 'reads'], 'share');
  const given = share as ShareOptions;
  const w = part<SharedWatchesOptions>(given.watches, 'share.watches', ['lingerMs', 'windowEvents', 'windowBytes', 'maxQueuedBytes']);
  const d = part<DiscoveryShareOptions>(given.discovery, 'share.discovery', ['ttlMs', 'maxEntries', 'maxBodyBytes']);
  const r = part<ReadShareOptions>(given.reads, 'share.reads', ['maxBufferBytes']);
  const { watches, discovery, reads } = SHARE_DEFAULTS;
  return {
    watches: w && {
      lingerMs: wholeNumber(w.lingerMs ?? watches.lingerMs, 'share.watches.lingerMs', 0, MAX, 'milliseconds'),
      windowEvents: wholeNumber(w.windowEvents ?? watches.windowEvents, 'share.watches.windowEvents', 1, MAX, 'events'),
      windowBytes: wholeNumber(w.windowBytes ?? watches.windowBytes, 'share.watches.windowBytes', 1024, MAX, 'bytes'),
      maxQueuedBytes: wholeNumber(w.maxQueuedBytes ?? watches.maxQueuedBytes, 'share.watches.maxQueuedBytes', 1024, MAX, 'bytes'),
    },
    discovery: d && {
      ttlMs: wholeNumber(d.ttlMs ?? discovery.ttlMs, 'share.discovery.ttlMs', 1, MAX, 'milliseconds'),
      maxEntries: wholeNumber(d.maxEntries ?? discovery.maxEntries, 'share.discovery.maxEntries', 1, 1_000_000, 'entries'),
      maxBodyBytes: wholeNumber(d.maxBodyBytes ?? discovery.maxBodyBytes, 'share.discovery.maxBodyBytes', 1, 1024 * 1024 * 1024, 'bytes'),
    },
    reads: r && {
      maxBufferBytes: wholeNumber(r.maxBufferBytes ?? reads.maxBufferBytes, 'share.reads.maxBufferBytes', 1, 1024 * 1024 * 1024, 'bytes'),
    },
  };
}
