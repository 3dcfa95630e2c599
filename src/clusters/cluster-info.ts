import type { AuthMode, ClusterConfig } from './cluster-config.ts';
import { validateClusterConfig } from './cluster-config.ts';
import type { CredentialKind } from '../credentials/cluster-credentials.ts';

/**
 * What may be shown of a cluster, e.g. in a browser's cluster picker: never a credential, a CA,
 * a token or an impersonated identity.
 */
export interface ClusterInfo {
  /** The path segment that selects the cluster: `<mountPath>/<name>/...`. */
  readonly name: string;
  /** Whose identity reaches the cluster, defaults applied. */
  readonly authMode: AuthMode;
  /** Whether a request must carry the user's token (or a login session): `'user'` and `'impersonate'`. */
  readonly needsUserToken: boolean;
  /** The kind of the cluster's own credentials, if it has any (`'exec'`, `'token'`, ...). */
  readonly credentialKind: CredentialKind | undefined;
  /** The `oidcSessions()` provider the cluster trusts, when one is named. */
  readonly sessionProvider: string | undefined;
  /** The API server's host (`name:port`), without scheme, path or anything else. */
  readonly serverHost: string;
  /** A kubeconfig context's default namespace, if known. */
  readonly namespace: string | undefined;
}

const KINDS: readonly CredentialKind[] = ['token', 'tokenFile', 'clientCertificate', 'getToken', 'exec', 'oidc'];

/** The {@link ClusterInfo} of a configuration (validated once; an invalid one is left out by the caller). */
export function clusterInfo(config: ClusterConfig): ClusterInfo {
  const cluster = validateClusterConfig(config, `cluster "${String(config?.name)}"`);
  const credentials = cluster.credentials as Record<string, unknown> | undefined;
  return {
    name: cluster.name,
    authMode: cluster.authMode,
    needsUserToken: cluster.authMode === 'user' || cluster.authMode === 'impersonate',
    credentialKind: credentials === undefined ? undefined : KINDS.find((kind) => kind in credentials),
    sessionProvider: cluster.sessionProvider,
    serverHost: cluster.server.host,
    namespace: config.context?.namespace,
  };
}

/** `[clusterInfo(config)]`, or `[]` (and a warning) for a configuration that does not validate. */
export function listable(config: ClusterConfig, logger: Pick<Console, 'warn'>): ClusterInfo[] {
  try {
    return [clusterInfo(config)];
  } catch (error) {
    logger.warn(`kube-cluster-proxy: cluster "${String(config?.name)}" is left out of listClusters(): ${(error as Error).message}`);
    return [];
  }
}
