import { createHmac, randomBytes } from 'node:crypto';
import type { Exchange } from '../pipeline/exchange.ts';

/** Keys the hash of user tokens: random per process, so a hash says nothing outside it and cannot be precomputed. */
const HASH_KEY = randomBytes(32);

/**
 * Who the cluster will see a request as, as a string two requests share exactly when the cluster
 * would see the same identity: the same cluster with its own credentials; the same user token
 * (and the same `Impersonate-*` headers the user sent with it), compared by a keyed hash so the
 * token is never kept; or, in `'impersonate'` mode, the same verified user and groups. `undefined`:
 * the request must not share anything with another.
 */
export function identityKey(exchange: Exchange): string | undefined {
  const cluster = exchange.cluster.name;
  switch (exchange.identity.kind) {
    case 'cluster':
      return JSON.stringify(['cluster', cluster]);
    case 'impersonated': {
      const { name, groups } = exchange.user;
      if (name === undefined) return undefined;
      return JSON.stringify(['impersonated', cluster, name, [...groups].sort()]);
    }
    case 'user': {
      const { authorization } = exchange.headers;
      if (typeof authorization !== 'string' || authorization === '') return undefined;
      const hash = createHmac('sha256', HASH_KEY).update(authorization);
      // A user's token may impersonate others: who the cluster sees then depends on these too.
      for (const name of Object.keys(exchange.headers).filter((n) => n.startsWith('impersonate-')).sort()) {
        hash.update(`\0${name}\0${JSON.stringify(exchange.headers[name])}`);
      }
      return JSON.stringify(['user', cluster, hash.digest('base64url')]);
    }
    default:
      return undefined;
  }
}
