import type { OidcAuthProviderConfig, ValidatedCluster } from '../clusters/cluster-config.ts';
import { CredentialsUnavailableError } from '../errors.ts';
import type { CredentialDependencies, CredentialSource } from './cluster-credentials.ts';

/** kubectl's OIDC auth-provider. Being written: see the OIDC work item. */
export function createOidcCredentialSource(
  cluster: ValidatedCluster,
  _config: OidcAuthProviderConfig,
  _deps: CredentialDependencies,
): CredentialSource {
  return {
    kind: 'oidc',
    obtain: () => Promise.reject(new CredentialsUnavailableError(cluster.name, `cluster "${cluster.name}": the OIDC auth-provider is not supported yet`)),
    rejected: () => {},
  };
}
