import type { ValidatedCluster } from '../clusters/cluster-config.ts';
import { ClusterProxyError, CredentialsUnavailableError } from '../errors.ts';
import { redactedExcerpt } from '../redact.ts';
import type { TokenCache } from '../tokens/cached-token.ts';
import type { TokenStore } from '../tokens/token-store.ts';
import { createExecCredentialSource } from './exec-plugin.ts';
import { createOidcCredentialSource } from './oidc-auth-provider.ts';
import { createTokenFileReader } from './token-file.ts';

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

/** What a credential source needs from the proxy. */
export interface CredentialDependencies {
  tokenCache: TokenCache;
  /** The raw store behind `tokenCache`: OIDC id and refresh tokens, and refresh locks across replicas. */
  tokenStore: TokenStore;
  now: () => number;
  onError: (error: unknown) => void;
}

/**
 * The first line of an error's message, with its code, for a message the user sees: short, and
 * with anything that looks like a token redacted, since the error may come from user code.
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const line = redactedExcerpt(error.message.split('\n')[0] ?? '', 200) || error.name;
    return code ? `${line} (${code})` : line;
  }
  return redactedExcerpt(String(error), 200);
}

/** Builds the credential source for a cluster's `credentials`, or `undefined` when it has none. */
export function createCredentialSource(
  cluster: ValidatedCluster,
  deps: CredentialDependencies,
): CredentialSource | undefined {
  const credentials = cluster.credentials;
  if (!credentials) return undefined;
  const name = cluster.name;

  if ('token' in credentials) {
    const obtained = { token: credentials.token };
    return { kind: 'token', obtain: () => Promise.resolve(obtained), rejected: () => {} };
  }

  if ('tokenFile' in credentials) {
    const reader = createTokenFileReader(credentials.tokenFile, deps.now);
    return {
      kind: 'tokenFile',
      obtain: () =>
        reader.token().then((token) => ({ token }), (error: unknown) => {
          throw new CredentialsUnavailableError(
            name,
            `cluster "${name}": the token file ${credentials.tokenFile} could not be read: ${describeError(error)}`,
            { cause: error },
          );
        }),
      rejected: () => reader.stale(),
    };
  }

  if ('clientCertificate' in credentials) {
    const obtained = { certificate: { cert: credentials.clientCertificate, key: credentials.clientKey } };
    return { kind: 'clientCertificate', obtain: () => Promise.resolve(obtained), rejected: () => {} };
  }

  if ('exec' in credentials) return createExecCredentialSource(cluster, credentials.exec, deps);
  if ('oidc' in credentials) return createOidcCredentialSource(cluster, credentials.oidc, deps);

  const key = `cluster:${name}:getToken`;
  const { getToken } = credentials;
  return {
    kind: 'getToken',
    obtain: () =>
      deps.tokenCache
        .get(key, async () => {
          const fetched = await getToken({ cluster: name });
          if (typeof fetched?.token !== 'string' || fetched.token === '' || /\s/.test(fetched.token)) {
            throw new Error('getToken() did not return { token: string } with a non-empty token');
          }
          if (fetched.expiresAt !== undefined && !(fetched.expiresAt instanceof Date && !isNaN(+fetched.expiresAt))) {
            throw new Error('getToken() returned an expiresAt that is not a valid Date');
          }
          return fetched;
        })
        .then((token) => ({ token }), (error: unknown) => {
          // The proxy's own errors (the token store down) already say what happened.
          if (error instanceof ClusterProxyError) throw error;
          throw new CredentialsUnavailableError(
            name,
            `cluster "${name}": getToken() failed: ${describeError(error)}`,
            { cause: error },
          );
        }),
    rejected: (credential) => {
      deps.tokenCache.invalidate(key, credential.token).catch(deps.onError);
    },
  };
}
