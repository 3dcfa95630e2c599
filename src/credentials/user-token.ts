import type { IncomingMessage } from 'node:http';
import { isBearerToken } from '../checks.ts';
import { BadRequestError } from '../errors.ts';
import { readBearerSubprotocol } from './bearer-subprotocol.ts';
import { parseCookies } from './cookies.ts';
import { readTokenCookie } from './token-cookie.ts';

/** Where a user's token was found: a header, the WebSocket subprotocol, the token cookie, or a login session. */
export type UserTokenSource = 'header' | 'subprotocol' | 'cookie' | 'session';

/** A user's bearer token and where it came from. */
export interface UserToken {
  token: string;
  source: UserTokenSource;
}

/**
 * Finds the user's bearer token, in this order: `Authorization: Bearer`, the WebSocket bearer
 * subprotocol entry, the token cookie. An `Authorization` header of another scheme (a dashboard
 * behind Basic auth) is not a token for the cluster and is passed over.
 * @throws {BadRequestError} when a source is present but malformed.
 */
export function findUserToken(req: IncomingMessage, cookieName: string): UserToken | undefined {
  const authorization = req.headers.authorization;
  if (authorization !== undefined && /^bearer(\s|$)/i.test(authorization)) {
    const match = /^bearer +(\S+) *$/i.exec(authorization);
    if (!match || !isBearerToken(match[1]!)) {
      throw new BadRequestError('the Authorization header must be "Bearer <token>", the token visible ASCII only');
    }
    return { token: match[1]!, source: 'header' };
  }
  const { token } = readBearerSubprotocol(req.headers['sec-websocket-protocol']);
  if (token !== undefined) return { token, source: 'subprotocol' };
  const fromCookie = readTokenCookie(parseCookies(req.headers.cookie), cookieName);
  if (fromCookie !== undefined) return { token: fromCookie, source: 'cookie' };
  return undefined;
}
