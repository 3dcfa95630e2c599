import type { ClusterConfig } from './cluster-config.ts';

/**
 * Where the proxy looks clusters up. Both methods may answer synchronously or with a promise, so
 * that kubeconfig files, in-cluster configuration or a database can back it.
 */
export interface ClusterResolver {
  /** The cluster of that name, or `undefined` when there is none (the proxy answers `404`). */
  resolve(name: string): ClusterConfig | undefined | Promise<ClusterConfig | undefined>;
  /** Every cluster, e.g. for a cluster picker. */
  list(): readonly ClusterConfig[] | Promise<readonly ClusterConfig[]>;
}

/** Whether `value` is a {@link ClusterResolver} rather than an array of configurations. */
export function isClusterResolver(value: unknown): value is ClusterResolver {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ClusterResolver).resolve === 'function' &&
    typeof (value as ClusterResolver).list === 'function'
  );
}
