import { InvalidOptionError } from '../errors.ts';
import { checkKnownOptions } from '../known-options.ts';

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
   * Bytes of a shared response kept for clients that join after its body began, in bytes. Once
   * the body is longer, later identical requests get a request of their own. Default `16 MiB`
   * (`16_777_216`).
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
   * Identical watches of one identity share one upstream watch: `true`, or an object of its
   * settings. Accepted and kept as given; the shared watches themselves are not in this version.
   */
  watches?: boolean | object;
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
  /** As given, untouched: validated and used by the shared watches. */
  watches: boolean | object | undefined;
  discovery: Required<DiscoveryShareOptions> | undefined;
  reads: Required<ReadShareOptions> | undefined;
}

export const SHARE_DEFAULTS = {
  discovery: { ttlMs: 30_000, maxEntries: 1000, maxBodyBytes: 8 * 1024 * 1024 },
  reads: { maxBufferBytes: 16 * 1024 * 1024 },
} as const;

const MAX_TIMER_MS = 2_147_483_647;

/** A given value as a message shows it: JSON where it has one (`undefined` and functions have none). */
function shown(value: unknown): string {
  return JSON.stringify(value) ?? typeof value;
}

function positiveInteger(value: unknown, name: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidOptionError(`${name} must be a whole number from 1 to ${max}; got ${shown(value)}`);
  }
  return value;
}

function part<T extends object>(value: unknown, name: string): T | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {} as T;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(`${name} must be true, false or an object of settings; got ${shown(value)}`);
  }
  return value as T;
}

/**
 * Validates the `share` option once, at construction.
 * @throws {InvalidOptionError} naming the setting and the rule.
 */
export function resolveShareOptions(share: unknown): ResolvedShare {
  if (share === undefined) return { watches: undefined, discovery: undefined, reads: undefined };
  if (typeof share !== 'object' || share === null || Array.isArray(share)) {
    throw new InvalidOptionError('share must be an object such as { discovery: true, reads: true }');
  }
  checkKnownOptions(share as ShareOptions, ['watches', 'discovery', 'reads'], 'share');
  const { watches, discovery, reads } = share as ShareOptions;
  if (watches !== undefined && typeof watches !== 'boolean' && (typeof watches !== 'object' || watches === null || Array.isArray(watches))) {
    throw new InvalidOptionError(`share.watches must be true, false or an object of settings; got ${shown(watches)}`);
  }
  const d = part<DiscoveryShareOptions>(discovery, 'share.discovery');
  if (d) checkKnownOptions(d, ['ttlMs', 'maxEntries', 'maxBodyBytes'], 'share.discovery');
  const r = part<ReadShareOptions>(reads, 'share.reads');
  if (r) checkKnownOptions(r, ['maxBufferBytes'], 'share.reads');
  const defaults = SHARE_DEFAULTS;
  return {
    watches,
    discovery: d && {
      ttlMs: positiveInteger(d.ttlMs ?? defaults.discovery.ttlMs, 'share.discovery.ttlMs', MAX_TIMER_MS),
      maxEntries: positiveInteger(d.maxEntries ?? defaults.discovery.maxEntries, 'share.discovery.maxEntries', 1_000_000),
      maxBodyBytes: positiveInteger(d.maxBodyBytes ?? defaults.discovery.maxBodyBytes, 'share.discovery.maxBodyBytes', 1024 * 1024 * 1024),
    },
    reads: r && {
      maxBufferBytes: positiveInteger(r.maxBufferBytes ?? defaults.reads.maxBufferBytes, 'share.reads.maxBufferBytes', 1024 * 1024 * 1024),
    },
  };
}
