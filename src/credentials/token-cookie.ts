import type { ServerResponse } from 'node:http';
import { clusterNameProblem } from '../clusters/cluster-name.ts';
import { hasControlCharacter, isBearerToken, isHttpToken } from '../checks.ts';
import { BadRequestError, InvalidOptionError } from '../errors.ts';
import { isSecureRequest, parseCookies, serializeCookie } from './cookies.ts';

/** Default name of the cookie that carries a user's token for one cluster. */
export const DEFAULT_TOKEN_COOKIE = 'cluster-token';

/**
 * Largest cookie value written in one piece. Browsers cap a cookie at about 4096 bytes including
 * its name and attributes, and proxies such as nginx cap whole headers at 8 KiB, so longer tokens
 * are split over `<name>.0`, `<name>.1`, ... and the main cookie says how many pieces there are.
 */
export const MAX_COOKIE_CHUNK = 3800;
const CHUNKED = /^chunks:([1-9][0-9]?)$/;

/** Options of {@link setClusterTokenCookie}. */
export interface TokenCookieOptions {
  /** Where the proxy is mounted. Default `'/clusters'`. */
  mountPath?: string;
  /** Cookie name. Default `'cluster-token'`; must match the proxy's `tokenCookie`. */
  cookieName?: string;
  /** Adds `Secure`. Default: `true` when the request came over TLS. Set it behind a TLS-terminating proxy. */
  secure?: boolean;
  /** Lifetime in seconds. Default: a session cookie. */
  maxAgeSeconds?: number;
}

function cookiePath(mountPath: string, cluster: string): string {
  return `${mountPath.replace(/\/+$/, '')}/${encodeURIComponent(cluster)}`;
}

/** One cookie of the cluster's token, in the one shape every cookie of the package has. */
function tokenCookie(res: ServerResponse, cluster: string, options: TokenCookieOptions, name: string, value: string, maxAgeSeconds = options.maxAgeSeconds): string {
  return serializeCookie(name, value, {
    path: cookiePath(options.mountPath ?? '/clusters', cluster),
    sameSite: 'Strict',
    secure: options.secure ?? isSecureRequest(res.req),
    ...(maxAgeSeconds === undefined ? {} : { maxAgeSeconds }),
  });
}

function checkOptions(cluster: string, options: TokenCookieOptions, fn: string): string {
  const problem = typeof cluster === 'string' ? clusterNameProblem(cluster) : 'a cluster name must be a string';
  if (problem) throw new InvalidOptionError(`${fn}: cluster: ${problem}`);
  const mountPath = options.mountPath ?? '/clusters';
  // '' is the root, as the proxy's own mountPath has it; ';' would end the cookie's Path early.
  if (typeof mountPath !== 'string' || !(mountPath === '' || mountPath.startsWith('/')) || mountPath.includes(';') || hasControlCharacter(mountPath)) {
    throw new InvalidOptionError(`${fn}: mountPath must be a path starting with "/" (or "" for the root), without ";" or control characters`);
  }
  const name = options.cookieName ?? DEFAULT_TOKEN_COOKIE;
  if (!isHttpToken(name)) {
    throw new InvalidOptionError(`${fn}: cookieName ${JSON.stringify(name)} is not a valid cookie name`);
  }
  return name;
}

/** Chunk cookies the current request carries for `name`, so that stale pieces can be expired. */
function carriedChunks(res: ServerResponse, name: string): string[] {
  const cookies = parseCookies(res.req?.headers.cookie);
  return [...cookies.keys()].filter((key) => key.startsWith(`${name}.`) && /^\d+$/.test(key.slice(name.length + 1)));
}

/**
 * Sets the cookie that authenticates a user to one cluster through the proxy: `HttpOnly`,
 * `SameSite=Strict`, `Secure` over TLS, `Path=<mountPath>/<cluster>` so that each cluster gets its
 * own token and no other route sees it. Tokens longer than 3800 bytes are
 * chunked. Existing `Set-Cookie` headers are kept.
 * @throws {InvalidOptionError} for an invalid cluster name, cookie name or token.
 */
export function setClusterTokenCookie(
  res: ServerResponse,
  cluster: string,
  token: string,
  options: TokenCookieOptions = {},
): void {
  const name = checkOptions(cluster, options, 'setClusterTokenCookie');
  if (typeof token !== 'string' || !isBearerToken(token)) {
    throw new InvalidOptionError('setClusterTokenCookie: token must be a non-empty string of visible ASCII characters (no spaces)');
  }
  const value = encodeURIComponent(token);
  const chunks: string[] = [];
  for (let i = 0; i < value.length; i += MAX_COOKIE_CHUNK) chunks.push(value.slice(i, i + MAX_COOKIE_CHUNK));
  if (chunks.length > 99) throw new InvalidOptionError('setClusterTokenCookie: token is too long for cookies');
  const cookies = chunks.length === 1 ? [tokenCookie(res, cluster, options, name, value)] : [
    tokenCookie(res, cluster, options, name, `chunks:${chunks.length}`),
    ...chunks.map((chunk, i) => tokenCookie(res, cluster, options, `${name}.${i}`, chunk)),
  ];
  const written = chunks.length === 1 ? 0 : chunks.length;
  for (const stale of carriedChunks(res, name)) {
    if (Number(stale.slice(name.length + 1)) >= written) cookies.push(tokenCookie(res, cluster, options, stale, '', 0));
  }
  for (const cookie of cookies) res.appendHeader('set-cookie', cookie);
}

/** Expires the token cookie (and its chunks) of one cluster, e.g. on logout. */
export function clearClusterTokenCookie(
  res: ServerResponse,
  cluster: string,
  options: Omit<TokenCookieOptions, 'maxAgeSeconds'> = {},
): void {
  const name = checkOptions(cluster, options, 'clearClusterTokenCookie');
  for (const cookie of [name, ...carriedChunks(res, name)]) res.appendHeader('set-cookie', tokenCookie(res, cluster, options, cookie, '', 0));
}

/**
 * Reads a token cookie written by {@link setClusterTokenCookie}, joining chunks.
 * @throws {BadRequestError} when the value is not valid percent-encoding or a chunk is missing.
 */
export function readTokenCookie(cookies: Map<string, string>, name: string): string | undefined {
  const main = cookies.get(name);
  if (main === undefined || main === '') return undefined;
  let encoded = main;
  const chunked = CHUNKED.exec(main);
  if (chunked) {
    encoded = '';
    for (let i = 0; i < Number(chunked[1]); i++) {
      const chunk = cookies.get(`${name}.${i}`);
      if (chunk === undefined) throw new BadRequestError(`cookie "${name}" is missing its chunk ${i}`);
      encoded += chunk;
    }
  }
  let token: string;
  try {
    token = decodeURIComponent(encoded);
  } catch {
    throw new BadRequestError(`cookie "${name}" is not valid percent-encoding`);
  }
  if (!isBearerToken(token)) throw new BadRequestError(`cookie "${name}" holds a malformed token: a token is visible ASCII only`);
  return token;
}
