import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import * as client from 'openid-client';
import { createIssuerFetch, ISSUER_REQUEST_DEFAULTS, type IssuerRequestOptions } from './issuer-fetch.ts';

/** Where an issuer is, and what its TLS is trusted with. */
export interface IssuerAddress {
  /** The issuer identifier: discovery at `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  /** PEM CA for the issuer's TLS, besides Node's roots and `NODE_EXTRA_CA_CERTS`. */
  ca?: string | Buffer | undefined;
}

/**
 * How long discovered metadata is reused, in ms: an issuer that moves an endpoint is followed
 * within this, without a discovery request per login, refresh or verification.
 */
const DISCOVERY_TTL_MS = 3600_000;
/** Distinct issuers (and CAs) remembered at once; a deployment has a handful. */
const MAX_ISSUERS = 256;

// One cache for the whole process: the kubeconfig auth-provider, oidcSessions and the
// 'impersonate' verifier of every cluster share what they learn about an issuer.
const discovered = new LRUCache<string, Promise<client.ServerMetadata>>({ max: MAX_ISSUERS, ttl: DISCOVERY_TTL_MS });

// openid-client's discovery builds a client configuration around the metadata; only the metadata
// is kept, so the client it is built for is a placeholder that never reaches the issuer.
const DISCOVERY_CLIENT_ID = 'kube-cluster-proxy-discovery';

function cacheKey({ issuer, ca }: IssuerAddress): string {
  return `${new URL(issuer).href}\n${ca === undefined ? '' : createHash('sha256').update(ca).digest('base64url')}`;
}

/** openid-client refuses `http:` issuers unless told: allowed for a loopback identity provider in development. */
export function allowsHttp(issuer: string): boolean {
  return new URL(issuer).protocol === 'http:';
}

/**
 * The issuer's metadata (OpenID Connect Discovery, checked by openid-client: JSON, an object,
 * `issuer` equal to the one asked for), discovered once per issuer and CA for the process. A failed
 * discovery is not kept: the next call tries again, so an issuer that was down comes back.
 * @throws what openid-client throws (see `describeIssuerError`), or the fetch's timeout or size error.
 */
export function discoverIssuer(address: IssuerAddress, options: IssuerRequestOptions = {}): Promise<client.ServerMetadata> {
  const key = cacheKey(address);
  const known = discovered.get(key);
  if (known) return known;
  const pending = client
    .discovery(new URL(address.issuer), DISCOVERY_CLIENT_ID, undefined, client.None(), {
      [client.customFetch]: createIssuerFetch(address.ca, options),
      timeout: (options.timeoutMs ?? ISSUER_REQUEST_DEFAULTS.timeoutMs) / 1000,
      execute: allowsHttp(address.issuer) ? [client.allowInsecureRequests] : [],
    })
    .then((configuration) => configuration.serverMetadata());
  pending.catch(() => {
    if (discovered.get(key) === pending) discovered.delete(key);
  });
  discovered.set(key, pending);
  return pending;
}
