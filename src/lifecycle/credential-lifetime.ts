import type { ObtainedCredential } from '../credentials/credential-source.ts';
import type { Exchange } from '../pipeline/exchange.ts';

/**
 * How long after its credential expired a connection is closed: the cluster judges expiry with
 * its own clock, so a connection is not cut the very millisecond a skewed proxy clock says so.
 */
export const LIFETIME_GRACE_MS = 500;

/** Largest JWT payload read for its `exp`: a token is a header, far below this. */
const MAX_PAYLOAD = 16 * 1024;

/**
 * The `exp` of a JWT, in milliseconds since the epoch, or `undefined` for a token that is no JWT
 * (an opaque service-account token) or carries no numeric `exp`. The signature is not checked:
 * the cluster (or the `'impersonate'` verifier) already judged the token, and a forged `exp` could
 * only shorten the connection of whoever forged it, since the cluster refuses an expired token.
 */
export function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1]!.length > MAX_PAYLOAD) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    const exp = (payload as { exp?: unknown } | null)?.exp;
    return typeof exp === 'number' && Number.isFinite(exp) && exp > 0 ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * When the credentials a request was sent with expire: the earlier of the user's token (a JWT's
 * `exp`) and the cluster's own credential (an exec plugin's `expirationTimestamp`), when known.
 */
export function credentialExpiry(userToken: string | undefined, credential: ObtainedCredential | undefined): number | undefined {
  const times = [userToken === undefined ? undefined : jwtExpiry(userToken), credential?.expiresAt].filter((t): t is number => t !== undefined);
  return times.length === 0 ? undefined : Math.min(...times);
}

/**
 * In how many milliseconds an open connection of `exchange` must be closed for its credential's
 * sake, or `undefined` when never (the cluster's `upgradeLifetime` is not `'credential'`, or the
 * expiry is unknown). `0` when it is already due.
 */
export function lifetimeDelay(exchange: Exchange, now: number): number | undefined {
  if (exchange.cluster.upgradeLifetime !== 'credential' || exchange.credentialExpiresAt === undefined) return undefined;
  return Math.max(0, exchange.credentialExpiresAt + LIFETIME_GRACE_MS - now);
}
