import type { Exchange } from '../pipeline/exchange.ts';
import { keyedHash } from '../share/identity-key.ts';

/**
 * Whom a request counts against for the per-user limits: the verified user where the proxy knows
 * one, else the user token (by keyed hash), else the login session, else the client's address.
 * The cluster's own identity names no person: requests made with it count by session or address.
 */
export function limitUserKey(exchange: Exchange, clientAddress: string | undefined): string {
  const { user, headers, identity } = exchange;
  if (user.name !== undefined && user.kind !== 'cluster') return `user:${user.name}`;
  if (identity.kind === 'user' && typeof headers.authorization === 'string') return `token:${keyedHash(headers.authorization)}`;
  if (exchange.session !== undefined) return `session:${keyedHash(exchange.session)}`;
  return `address:${clientAddress ?? 'unknown'}`;
}
