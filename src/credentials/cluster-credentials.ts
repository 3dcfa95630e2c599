import type { ValidatedCluster } from '../clusters/cluster-config.ts';
import { ClusterProxyError, CredentialsUnavailableError } from '../errors.ts';
import { describeError } from '../redact.ts';
import { reportedFetch, type CredentialDependencies, type CredentialSource } from './credential-source.ts';
import { createExecCredentialSource } from './exec-plugin.ts';
import { createOidcCredentialSource } from './oidc-auth-provider.ts';
import { createTokenFileReader } from './token-file.ts';

// The types moved to their own module, so that the sources this file dispatches to need not
// import it back; re-exported for the modules that still name them here.
export type { ClientCertificate, CredentialDependencies, CredentialKind, CredentialSource, ObtainedCredential } from './credential-source.ts';

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
          throw new CredentialsUnavailableError(`cluster "${name}": the token file ${credentials.tokenFile} could not be read: ${describeError(error)}`, { cluster: name, cause: error });
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
  const fetch = reportedFetch(deps, name, 'getToken', async () => {
    const fetched = await getToken({ cluster: name });
    if (typeof fetched?.token !== 'string' || fetched.token === '' || /\s/.test(fetched.token)) {
      throw new Error('getToken() did not return { token: string } with a non-empty token');
    }
    if (fetched.expiresAt !== undefined && !(fetched.expiresAt instanceof Date && !isNaN(+fetched.expiresAt))) {
      throw new Error('getToken() returned an expiresAt that is not a valid Date');
    }
    return fetched;
  });
  return {
    kind: 'getToken',
    obtain: () =>
      deps.tokenCache
        .get(key, fetch)
        .then((token) => ({ token }), (error: unknown) => {
          // The proxy's own errors (the token store down) already say what happened.
          if (error instanceof ClusterProxyError) throw error;
          throw new CredentialsUnavailableError(`cluster "${name}": getToken() failed: ${describeError(error)}`, { cluster: name, cause: error });
        }),
    rejected: (credential) => {
      deps.tokenCache.invalidate(key, credential.token).catch(deps.onError);
    },
  };
}
