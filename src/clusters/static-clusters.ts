import { InvalidOptionError } from '../errors.ts';
import { validateClusterConfig, type ClusterConfig } from './cluster-config.ts';
import type { ClusterResolver } from './cluster-resolver.ts';

/**
 * A resolver over a fixed list of clusters. Every configuration is validated here, once, so that
 * a mistake fails at start-up with a message naming the cluster and the option.
 * @throws {InvalidOptionError} for an invalid configuration or a duplicate name.
 */
export function staticClusters(configs: readonly ClusterConfig[]): ClusterResolver {
  const given: unknown = configs;
  if (!Array.isArray(given)) {
    throw new InvalidOptionError('clusters must be an array of cluster configurations or a ClusterResolver');
  }
  const byName = new Map<string, ClusterConfig>();
  configs.forEach((config, index) => {
    validateClusterConfig(config, `clusters[${index}]`);
    if (byName.has(config.name)) {
      throw new InvalidOptionError(`clusters[${index}].name "${config.name}" is used by two clusters`);
    }
    byName.set(config.name, config);
  });
  const list = Object.freeze([...byName.values()]);
  return {
    resolve: (name) => byName.get(name),
    list: () => list,
  };
}
