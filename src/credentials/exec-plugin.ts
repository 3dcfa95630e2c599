import type { ExecPluginConfig, ValidatedCluster } from '../clusters/cluster-config.ts';
import { CredentialsUnavailableError } from '../errors.ts';
import type { CredentialDependencies, CredentialSource } from './cluster-credentials.ts';

/** Runs a client-go exec credential plugin. Being written: see the exec plugin work item. */
export function createExecCredentialSource(
  cluster: ValidatedCluster,
  _config: ExecPluginConfig,
  _deps: CredentialDependencies,
): CredentialSource {
  return {
    kind: 'exec',
    obtain: () => Promise.reject(new CredentialsUnavailableError(cluster.name, `cluster "${cluster.name}": exec plugins are not supported yet`)),
    rejected: () => {},
  };
}
