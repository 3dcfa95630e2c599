import { InvalidOptionError } from '../errors.ts';
import { checkKnownOptions } from '../known-options.ts';

/**
 * How many requests may be in flight at the proxy at once, counted from the moment a request is
 * authenticated until its response closes (answers from the share caches included). Streams
 * (watches, followed logs, and every upgrade: exec, attach, port-forward) are counted apart from
 * short requests, as the API server counts them. Over a limit the proxy answers `429` with
 * `Retry-After: 1`. No limit unless set. See docs/sharing.md.
 */
export interface LimitOptions {
  /** Short requests one user may have in flight to one cluster. Default: unlimited. */
  requestsPerUser?: number;
  /** Watches, followed logs and upgrades one user may have open, over all clusters. Default: unlimited. */
  watchesPerUser?: number;
  /** Short requests in flight to one cluster, over all users. Default: unlimited. */
  requestsPerCluster?: number;
}

/** {@link LimitOptions} after validation; `Infinity` where unset. */
export type ResolvedLimits = Required<LimitOptions>;

const NAMES = ['requestsPerUser', 'watchesPerUser', 'requestsPerCluster'] as const;

/**
 * Validates the `limits` option once, at construction; `undefined` when no limit is set.
 * @throws {InvalidOptionError} naming the limit and the rule.
 */
export function resolveLimitOptions(limits: unknown): ResolvedLimits | undefined {
  if (limits === undefined) return undefined;
  if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) {
    throw new InvalidOptionError('limits must be an object such as { requestsPerUser: 50, watchesPerUser: 200, requestsPerCluster: 1000 }');
  }
  checkKnownOptions(limits as LimitOptions, [...NAMES], 'limits');
  const resolved = { requestsPerUser: Infinity, watchesPerUser: Infinity, requestsPerCluster: Infinity };
  for (const name of NAMES) {
    const value = (limits as LimitOptions)[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1_000_000_000) {
      throw new InvalidOptionError(`limits.${name} must be a whole number of requests from 1 to 1000000000; got ${JSON.stringify(value)}`);
    }
    resolved[name] = value;
  }
  return Object.values(resolved).every((v) => v === Infinity) ? undefined : resolved;
}
