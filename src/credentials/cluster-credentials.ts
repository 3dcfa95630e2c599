import type { ValidatedCluster } from '../clusters/cluster-config.ts';
import { CredentialsUnavailableError } from '../errors.ts';
import type { TokenCache } from '../tokens/cached-token.ts';
import { createTokenFileReader } from './token-file.ts';

/** Which kind of cluster credential a request used; reported to hooks, never the value. */
export type CredentialKind = 'token' | 'tokenFile' | 'clientCertificate' | 'getToken';

/** The cluster's own credentials, ready for use by the pipeline. */
export interface CredentialSource {
  readonly kind: CredentialKind;
  /**
   * The bearer token to send, or `undefined` for a client certificate (it lives in the TLS agent).
   * @throws {CredentialsUnavailableError} naming the source, never a token.
   */
  token(): Promise<string | undefined>;
  /** Called when the cluster answered `401` to a request made with these credentials. */
  rejected(): void;
}

/** What a credential source needs from the proxy. */
export interface CredentialDependencies {
  tokenCache: TokenCache;
  now: () => number;
  onError: (error: unknown) => void;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code ? `${error.message.split('\n')[0]} (${code})` : (error.message.split('\n')[0] ?? error.name);
  }
  return String(error);
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
    const token = credentials.token;
    return { kind: 'token', token: () => Promise.resolve(token), rejected: () => {} };
  }

  if ('tokenFile' in credentials) {
    const reader = createTokenFileReader(credentials.tokenFile, deps.now);
    return {
      kind: 'tokenFile',
      token: () =>
        reader.token().catch((error: unknown) => {
          throw new CredentialsUnavailableError(
            name,
            `cluster "${name}": the token file ${credentials.tokenFile} could not be read: ${describe(error)}`,
            { cause: error },
          );
        }),
      rejected: () => reader.stale(),
    };
  }

  if ('clientCertificate' in credentials) {
    return { kind: 'clientCertificate', token: () => Promise.resolve(undefined), rejected: () => {} };
  }

  const key = `cluster:${name}:getToken`;
  const { getToken } = credentials;
  return {
    kind: 'getToken',
    token: () =>
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
        .catch((error: unknown) => {
          throw new CredentialsUnavailableError(
            name,
            `cluster "${name}": getToken() failed: ${describe(error)}`,
            { cause: error },
          );
        }),
    rejected: () => {
      deps.tokenCache.invalidate(key).catch(deps.onError);
    },
  };
}
