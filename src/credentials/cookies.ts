import type { IncomingMessage } from 'node:http';
import { hasControlCharacter, isHttpToken } from '../checks.ts';

/**
 * Parses a `Cookie` header into name -> raw value; the first occurrence of a name wins, as
 * browsers send the most specific path first. Pieces without `=` are ignored, like browsers do.
 */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const piece of header.split(';')) {
    const eq = piece.indexOf('=');
    if (eq <= 0) continue;
    const name = piece.slice(0, eq).trim();
    let value = piece.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (name !== '' && !cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

/** The attributes of a cookie the proxy writes; see {@link serializeCookie}. */
export interface CookieAttributes {
  /** `Path`: every cookie of the proxy is scoped to where it is needed. */
  path: string;
  /** `HttpOnly`. Default `true`: no cookie of the proxy is for scripts. */
  httpOnly?: boolean;
  /** `SameSite`: `'Strict'` for credentials, `'Lax'` where a cross-site redirect must carry it (a login). */
  sameSite: 'Strict' | 'Lax';
  /** `Secure`; decide it with {@link isSecureRequest}. */
  secure: boolean;
  /** `Max-Age`, in seconds, rounded down; `0` (or less) expires the cookie. Default: none, a browser-session cookie. */
  maxAgeSeconds?: number;
}

/** RFC 6265 `cookie-octet`: visible ASCII except `"`, `,`, `;` and `\`. */
const COOKIE_VALUE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;

/**
 * A `Set-Cookie` value: `name=value; Path=…; HttpOnly; SameSite=…; Max-Age=…; Secure`. The one
 * serializer of the package, so that every cookie it writes has the same shape.
 * @throws {TypeError} for a name, value or path that would break the header (the callers validate
 * what users give them; reaching this is a bug, not bad input).
 */
export function serializeCookie(name: string, value: string, attributes: CookieAttributes): string {
  if (!isHttpToken(name)) throw new TypeError(`cookie name ${JSON.stringify(name)} is not an RFC 9110 token`);
  if (!COOKIE_VALUE.test(value)) throw new TypeError(`the value of cookie "${name}" holds characters a cookie cannot carry`);
  const { path, httpOnly = true, sameSite, secure, maxAgeSeconds } = attributes;
  if (path.includes(';') || hasControlCharacter(path)) throw new TypeError(`the path of cookie "${name}" holds ";" or a control character`);
  if (maxAgeSeconds !== undefined && Number.isNaN(maxAgeSeconds)) throw new TypeError(`the Max-Age of cookie "${name}" is not a number`);
  let cookie = `${name}=${value}; Path=${path}`;
  if (httpOnly) cookie += '; HttpOnly';
  cookie += `; SameSite=${sameSite}`;
  if (maxAgeSeconds !== undefined) cookie += `; Max-Age=${Math.max(0, Math.floor(Math.min(maxAgeSeconds, Number.MAX_SAFE_INTEGER)))}`;
  if (secure) cookie += '; Secure';
  return cookie;
}

/**
 * Whether the browser reached us over TLS, so that cookies may (and should) be `Secure`: the
 * connection is TLS, or, with `trustProxy`, a TLS-terminating proxy in front says so in the first
 * `X-Forwarded-Proto` entry. Without `trustProxy` the header is ignored, as any client can send it.
 */
export function isSecureRequest(req: IncomingMessage | undefined, trustProxy = false): boolean {
  if ((req?.socket as { encrypted?: boolean } | undefined)?.encrypted) return true;
  if (!trustProxy || !req) return false;
  const header = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https';
}
