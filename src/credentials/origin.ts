import type { IncomingMessage } from 'node:http';
import { InvalidOptionError } from '../errors.ts';

/**
 * Normalizes an origin (`scheme://host[:port]`) for comparison, or `undefined` when it is not one.
 * Default ports are dropped, as browsers do in the `Origin` header.
 */
export function normalizeOrigin(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.origin === 'null' || url.pathname !== '/' || url.search || url.hash || url.username) return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

/** Validates the `allowedOrigins` option once. */
export function normalizeAllowedOrigins(origins: readonly string[]): ReadonlySet<string> {
  if (!Array.isArray(origins)) throw new InvalidOptionError('allowedOrigins must be an array of origins');
  return new Set(
    origins.map((origin, i) => {
      const normalized = typeof origin === 'string' ? normalizeOrigin(origin) : undefined;
      if (!normalized) {
        throw new InvalidOptionError(
          `allowedOrigins[${i}] must be an origin such as "https://dash.example.com"; got ${JSON.stringify(origin)}`,
        );
      }
      return normalized;
    }),
  );
}

/**
 * Whether a request's `Origin` is the page that the proxy itself serves (its host matches the
 * request's `Host`) or one of `allowed`. Cookies are sent by browsers whoever opened the
 * WebSocket, so a cookie-authenticated upgrade from any other origin is cross-site WebSocket
 * hijacking.
 */
export function isOriginAllowed(req: IncomingMessage, allowed: ReadonlySet<string>): boolean {
  const raw = req.headers.origin;
  if (raw === undefined) return false;
  const origin = normalizeOrigin(raw);
  if (!origin) return false;
  if (allowed.has(origin)) return true;
  const host = req.headers.host;
  return host !== undefined && new URL(origin).host === normalizeHost(host, origin);
}

/** The `Host` header as `URL.host` would print it for the origin's scheme (default port dropped). */
function normalizeHost(host: string, origin: string): string | undefined {
  try {
    return new URL(`${new URL(origin).protocol}//${host}`).host;
  } catch {
    return undefined;
  }
}
