import { InvalidOptionError } from '../errors.ts';
import type { ClusterConfig } from './cluster-config.ts';
import { isClusterResolver, type ClusterResolver } from './cluster-resolver.ts';

/**
 * One resolver over several: a name resolves with the first resolver that knows it, and `list()`
 * concatenates them, the first one winning a name. E.g.
 * `composeClusters(inClusterCluster(), kubeconfigClusters({ paths: ['/etc/clusters'] }))`.
 */
export function composeClusters(...resolvers: ClusterResolver[]): ClusterResolver {
  resolvers.forEach((r, i) => {
    if (!isClusterResolver(r)) throw new InvalidOptionError(`composeClusters: argument ${i} is not a ClusterResolver`);
  });
  return {
    async resolve(name) {
      for (const resolver of resolvers) {
        const config = await resolver.resolve(name);
        if (config !== undefined) return config;
      }
      return undefined;
    },
    async list() {
      const seen = new Map<string, ClusterConfig>();
      for (const resolver of resolvers) {
        for (const config of await resolver.list()) if (!seen.has(config.name)) seen.set(config.name, config);
      }
      return [...seen.values()];
    },
    subscribe(listener) {
      const unsubscribers = resolvers.map((r) => r.subscribe?.(listener));
      return () => unsubscribers.forEach((u) => u?.());
    },
    close() {
      for (const resolver of resolvers) resolver.close?.();
    },
  };
}
