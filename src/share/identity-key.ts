import { createHmac, randomBytes } from 'node:crypto';
import type { Exchange } from '../pipeline/exchange.ts';

/**
 * A random key per process: hashes of user tokens are only ever compared inside the process that
 * made them, and nobody who reads one (a heap dump, a debugger) can test guessed tokens against it.
 */
const KEY = randomBytes(32);

/** A keyed hash (HMAC-SHA-256, base64url) of `value`: what stands in for a token wherever one is compared or counted. */
export function keyedHash(value: string): string {
  return createHmac('sha256', KEY).update(value).digest('base64url');
}

/** The client's own `Impersonate-*` headers, in a stable order: they change who the cluster sees. */
function impersonation(exchange: Exchange): string[][] {
  return Object.keys(exchange.headers)
    .filter((name) => name.startsWith('impersonate-'))
    .sort()
    .map((name) => [name, ...[exchange.headers[name] ?? []].flat().map(String)]);
}

/**
 * Who the cluster will see this request as, as a key two requests share exactly when the cluster
 * would take them for the same identity: the same cluster (name and server) with its own
 * credentials (`'cluster'` mode, or `'user-then-cluster'` without a user token); the same user
 * token and `Impersonate-*` headers (by keyed hash, never in clear); in `'impersonate'` mode the
 * same verified user and groups. `undefined` when the request must not share with any other.
 */
export function identityKey(exchange: Exchange): string | undefined {
  const { cluster, identity, headers, user } = exchange;
  const where = `${cluster.name}\u0000${cluster.server.origin}${cluster.server.pathname}`;
  switch (identity.kind) {
    case 'cluster':
      // The client's Impersonate-* headers were dropped; the configured ones are the cluster's own.
      return `${where}\u0000cluster`;
    case 'user': {
      const authorization = headers.authorization;
      if (typeof authorization !== 'string' || authorization === '') return undefined;
      return `${where}\u0000user\u0000${keyedHash(JSON.stringify([authorization, impersonation(exchange)]))}`;
    }
    case 'impersonated':
      if (user.kind !== 'impersonated' || user.name === undefined) return undefined;
      return `${where}\u0000as\u0000${keyedHash(JSON.stringify([user.name, [...user.groups].sort()]))}`;
  }
}
