import { readFileSync } from 'node:fs';
import { InvalidOptionError } from '../errors.ts';
import { checkKnownOptions } from '../known-options.ts';
import { validateClusterConfig, type AuthMode, type ClusterConfig } from './cluster-config.ts';
import type { ClusterResolver } from './cluster-resolver.ts';

/** Where Kubernetes mounts a pod's service-account credentials. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Options of {@link inClusterCluster}. */
export interface InClusterOptions {
  /** The cluster's name under the mount path. Default `'in-cluster'`. */
  name?: string;
  /** `authMode` of the cluster. Default `'cluster'` (the pod's service account). */
  authMode?: AuthMode;
  /** The service-account token file, re-read at most once a minute. Default `<SERVICE_ACCOUNT_DIR>/token`. */
  tokenFile?: string;
  /** The cluster CA file. Default `<SERVICE_ACCOUNT_DIR>/ca.crt`. */
  caFile?: string;
  /** Where `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT` are read. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The cluster the proxy runs in, as client-go's in-cluster configuration sees it: the API server
 * at `KUBERNETES_SERVICE_HOST`:`KUBERNETES_SERVICE_PORT`, the pod's service-account token (re-read
 * as it rotates; the last good token is kept when a read fails) and CA.
 * @throws {InvalidOptionError} when not running in a pod (the variables or the CA are missing).
 */
export function inClusterCluster(options: InClusterOptions = {}): ClusterResolver {
  checkKnownOptions(options, ['name', 'authMode', 'tokenFile', 'caFile', 'env'], 'inClusterCluster');
  const env = options.env ?? process.env;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new InvalidOptionError(
      'inClusterCluster: not running in a Kubernetes pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set',
    );
  }
  const caFile = options.caFile ?? `${SERVICE_ACCOUNT_DIR}/ca.crt`;
  let ca: Buffer;
  try {
    ca = readFileSync(caFile);
  } catch (error) {
    throw new InvalidOptionError(
      `inClusterCluster: the service-account CA ${caFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); is a service account mounted?`,
    );
  }
  const config: ClusterConfig = {
    name: options.name ?? 'in-cluster',
    // An IPv6 service address needs brackets in a URL.
    server: `https://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`,
    ca,
    credentials: { tokenFile: options.tokenFile ?? `${SERVICE_ACCOUNT_DIR}/token` },
    authMode: options.authMode ?? 'cluster',
  };
  validateClusterConfig(config, 'inClusterCluster');
  const list = [config];
  return { resolve: (name) => (name === config.name ? config : undefined), list: () => list };
}
