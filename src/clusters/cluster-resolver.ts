import type { ClusterConfig } from './cluster-config.ts';

/** What a resolver with a changing source (kubeconfig files) reports. */
export type ClusterResolverEvent =
  /** The source was read again; `clusters` are the names it now knows. */
  | { type: 'reload'; clusters: string[] }
  /** A problem: a file that no longer parses (the last good clusters are kept) or a broken entry. */
  | { type: 'error'; error: Error };

/**
 * Where the proxy looks clusters up. `resolve` and `list` may answer synchronously or with a
 * promise, so that kubeconfig files, in-cluster configuration or a database can back it.
 */
export interface ClusterResolver {
  /**
   * The cluster of that name, or `undefined` when there is none (the proxy answers `404`). May
   * throw a `ClusterProxyError` (e.g. a `KubeconfigError` for a broken context) to answer with it.
   */
  resolve(name: string): ClusterConfig | undefined | Promise<ClusterConfig | undefined>;
  /** Every usable cluster, e.g. for a cluster picker. */
  list(): readonly ClusterConfig[] | Promise<readonly ClusterConfig[]>;
  /**
   * Optional: reports reloads and problems. The proxy subscribes once and passes them to its
   * `resolverError` hook (or its logger). Returns an unsubscribe function.
   */
  subscribe?(listener: (event: ClusterResolverEvent) => void): () => void;
  /** Optional: releases what the resolver holds (file watchers); called by the proxy's `close()`. */
  close?(): void;
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
