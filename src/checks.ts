/**
 * The syntax checks the proxy applies in several places, each written once. They return a value
 * rather than throw, so that every caller words the error for its own context (an option, a
 * header, a cookie).
 */

import type { TokenStore } from './tokens/token-store.ts';

/** RFC 9110 `token`: header field names, cookie names, upgrade protocols, subprotocol entries. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * A WebSocket subprotocol entry as Kubernetes names them: visible ASCII without the list's comma.
 * Stricter RFC 6455 tokens would refuse `SPDY/3.1+portforward.k8s.io`, kubectl's port-forward tunnel.
 */
const SUBPROTOCOL = /^[\x21-\x2b\x2d-\x7e]+$/;

/** Visible ASCII only: what a bearer token may hold to be sent in a header. */
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/** Whether `value` is an RFC 9110 token (e.g. a cookie name or a WebSocket subprotocol). */
export function isHttpToken(value: string): boolean {
  return TOKEN.test(value);
}

/** Whether `value` can be forwarded as one entry of `Sec-WebSocket-Protocol`. */
export function isSubprotocol(value: string): boolean {
  return SUBPROTOCOL.test(value);
}

/**
 * Whether `token` can be sent as `Authorization: Bearer <token>`: non-empty visible ASCII (RFC 6750
 * `token68` is stricter; Kubernetes tokens are opaque, so any visible character is let through).
 * Anything else would make setting the upstream header throw, or smuggle a header break.
 */
export function isBearerToken(token: string): boolean {
  return VISIBLE_ASCII.test(token);
}

/** Whether `text` holds a C0 control character or DEL, which would break a header line. */
export function hasControlCharacter(text: string): boolean {
  // eslint-disable-next-line no-control-regex -- controls are exactly what is looked for
  return /[\u0000-\u001f\u007f]/.test(text);
}

/**
 * `text` as a header value that carries its UTF-8 bytes: Node writes a header string as Latin-1,
 * one byte a character, and the API server (Go) reads those bytes back as UTF-8. `text` must hold
 * no control character ({@link hasControlCharacter}).
 */
export function utf8HeaderValue(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : Buffer.from(text, 'utf8').toString('latin1');
}

/**
 * Whether `value` is an absolute `http:` or `https:` URL (an issuer, a redirect URI, a server).
 * Other schemes (`file:`, `javascript:`, `ws:`) and relative references are not.
 */
export function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string' || !URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === 'http:' || protocol === 'https:';
}

/**
 * Whether `value` has the shape of a {@link TokenStore}: `get`, `set` and `delete` functions, and
 * `tryLock` a function when present (a non-function would fail at the first refresh, not here).
 */
export function isTokenStore(value: unknown): value is TokenStore {
  if (typeof value !== 'object' || value === null) return false;
  const store = value as Record<string, unknown>;
  return (
    ['get', 'set', 'delete'].every((method) => typeof store[method] === 'function') &&
    (store.tryLock === undefined || typeof store.tryLock === 'function')
  );
}
