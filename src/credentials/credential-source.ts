import type { TokenCache } from '../tokens/cached-token.ts';
import type { TokenStore } from '../tokens/token-store.ts';

/** Which kind of cluster credential a request used; reported to hooks, never the value. */
export type CredentialKind = 'token' | 'tokenFile' | 'clientCertificate' | 'getToken' | 'exec' | 'oidc';

/** A client certificate and its key, PEM. */
export interface ClientCertificate {
  cert: string | Buffer;
  key: string | Buffer;
}

/** What a request carries as the cluster's identity: a bearer token, a client certificate, or both. */
export interface ObtainedCredential {
  token?: string;
  certificate?: ClientCertificate;
  /** When it expires, in milliseconds since the epoch, when the source says (an exec plugin's `expirationTimestamp`). */
  expiresAt?: number;
}

/** The cluster's own credentials, ready for use by the pipeline. */
export interface CredentialSource {
  readonly kind: CredentialKind;
  /**
   * The credential for the next request.
   * @throws {ClusterProxyError} (`503` for most sources) naming the source, never a token.
   */
  obtain(): Promise<ObtainedCredential>;
  /** Called when the cluster answered `401` to a request made with `credential` (what `obtain()` gave it). */
  rejected(credential: ObtainedCredential): void;
}

/** A fetch of a cluster's credentials from outside the process (a `getToken()` call, an exec plugin run, an OIDC refresh); cached reads are not fetches. */
export interface CredentialFetchEvent {
  cluster: string;
  source: CredentialKind;
  outcome: 'ok' | 'failed';
}

/** Runs `fetch` and reports its outcome to `deps.onFetch`. */
export function reportedFetch<T>(deps: CredentialDependencies, cluster: string, source: CredentialKind, fetch: () => Promise<T>): () => Promise<T> {
  return () =>
    fetch().then(
      (value) => {
        deps.onFetch?.({ cluster, source, outcome: 'ok' });
        return value;
      },
      (error: unknown) => {
        deps.onFetch?.({ cluster, source, outcome: 'failed' });
        throw error;
      },
    );
}

/** What a credential source needs from the proxy. */
export interface CredentialDependencies {
  /** Hears of every credential fetch (the `credentialFetch` hook). */
  onFetch?: ((event: CredentialFetchEvent) => void) | undefined;
  tokenCache: TokenCache;
  /** The raw store behind `tokenCache`: OIDC id and refresh tokens, and refresh locks across replicas. */
  tokenStore: TokenStore;
  now: () => number;
  onError: (error: unknown) => void;
}
