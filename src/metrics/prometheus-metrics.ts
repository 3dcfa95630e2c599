import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { InvalidOptionError } from '../errors.ts';
import type { ClusterProxyHooks } from '../hooks.ts';
import { createLabelTree } from './label-tree.ts';
import { createTally } from './tally.ts';
import { causeLabel, codeLabel, createClusterLabels, resourceLabel, verbLabel } from './labels.ts';

/** Options of {@link prometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /** The prom-client registry the metrics are registered in. Default: a new `Registry` of their own (pass prom-client's `register` to share the global one). */
  registry?: Registry;
  /** Prefix of every metric name. Default `'kube_cluster_proxy_'`. */
  prefix?: string;
  /**
   * The cluster names that get their own `cluster` label value; any other is `'unknown'`.
   * Default: learned from the clusters the proxy resolved (only configured clusters resolve), at
   * most 1000 names.
   */
  clusters?: readonly string[];
}

/** What {@link prometheusMetrics} returns. */
export interface PrometheusMetrics {
  /** The hooks to pass in the proxy's `on` (alone or in an array with others). */
  hooks: ClusterProxyHooks;
  /** A `node:http` / Express handler serving the registry in the Prometheus text format (`GET` and `HEAD`). */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** The registry the metrics live in. */
  registry: Registry;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Prometheus metrics of a cluster proxy, on prom-client (an optional peer dependency: install it
 * to use this entry point). Every label is bounded by construction: a cluster label only for
 * configured clusters, a resource label from a fixed list, never a path, user, name or token.
 * @throws {InvalidOptionError} for an invalid option, naming it.
 */
export function prometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const prefix = options.prefix ?? 'kube_cluster_proxy_';
  if (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$|^$/.test(prefix)) {
    throw new InvalidOptionError(`prometheusMetrics: prefix must be letters, digits, _ and : (not starting with a digit); got ${JSON.stringify(prefix)}`);
  }
  if (options.registry !== undefined && !(options.registry instanceof Registry)) throw new InvalidOptionError('prometheusMetrics: registry must be a prom-client Registry');
  if (options.clusters !== undefined && !(Array.isArray(options.clusters) && options.clusters.every((c) => typeof c === 'string'))) {
    throw new InvalidOptionError('prometheusMetrics: clusters must be an array of cluster names');
  }
  const registry = options.registry ?? new Registry();
  const registers = [registry];
  const clusters = createClusterLabels(options.clusters);

  const requestLabels = ['cluster', 'verb', 'resource', 'code', 'source'] as const;
  const requestTally = createTally(requestLabels);
  new Counter({
    name: `${prefix}requests_total`,
    help: 'Requests and upgrades the proxy finished (upgrades when they closed), by who made the response: the cluster or the proxy.',
    labelNames: requestLabels,
    registers,
    collect() {
      requestTally.flush(this);
    },
  });
  const latency = new Histogram({
    name: `${prefix}response_latency_seconds`,
    help: "Seconds from the proxy receiving a request to the cluster's response headers.",
    labelNames: ['cluster', 'verb', 'resource'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  // One child per label set, kept: labels are validated once, not at every observation.
  const latencyChildren = createLabelTree((values) => latency.labels(...values));
  const upstreamErrors = new Counter({ name: `${prefix}upstream_errors_total`, help: 'Requests that could not reach their cluster, by cause.', labelNames: ['cluster', 'cause'], registers });
  const upgradesOpen = new Gauge({ name: `${prefix}upgrades_open`, help: 'Upgraded connections (exec, attach, port-forward, watches over WebSocket) open now.', labelNames: ['cluster'], registers });
  const upgrades = new Counter({ name: `${prefix}upgrades_total`, help: 'Upgraded connections the cluster switched.', labelNames: ['cluster', 'resource'], registers });
  const upgradeBytes = new Counter({
    name: `${prefix}upgrade_bytes_total`,
    help: 'Bytes through upgraded connections, counted when they close: in is client to cluster, out is cluster to client.',
    labelNames: ['cluster', 'direction'],
    registers,
  });
  const fetches = new Counter({
    name: `${prefix}credential_fetches_total`,
    help: "Fetches of clusters' credentials (getToken, exec plugin, OIDC refresh), by outcome.",
    labelNames: ['cluster', 'source', 'outcome'],
    registers,
  });
  const refreshes = new Counter({ name: `${prefix}session_refreshes_total`, help: "Refreshes of login sessions' tokens, by outcome.", labelNames: ['outcome'], registers });
  const storeErrors = new Counter({ name: `${prefix}token_store_errors_total`, help: 'Token store failures outside a request (cache writes, invalidations).', registers });

  const hooks: ClusterProxyHooks = {
    proxyRes(event) {
      clusters.learn(event.cluster);
      latencyChildren.get([clusters.label(event.cluster), verbLabel(event.request, event.method), resourceLabel(event.request)]).observe(event.durationMs / 1000);
    },
    upgrade(event) {
      clusters.learn(event.cluster);
      const cluster = clusters.label(event.cluster);
      if (event.phase === 'open') {
        upgradesOpen.inc({ cluster });
        upgrades.inc({ cluster, resource: resourceLabel(event.request) });
      } else upgradesOpen.dec({ cluster });
    },
    error({ error, cluster }) {
      if (error.code !== 'ERR_UPSTREAM_UNREACHABLE' && error.code !== 'ERR_UPSTREAM_TIMEOUT') return;
      // Only a resolved cluster is ever contacted: the name is a configured one.
      if (cluster !== undefined) clusters.learn(cluster);
      upstreamErrors.inc({ cluster: clusters.label(cluster), cause: causeLabel(error.code, error.cause, error.message) });
    },
    audit(event) {
      if (event.cluster !== undefined) clusters.learn(event.cluster);
      const cluster = clusters.label(event.cluster);
      requestTally.add([cluster, verbLabel(event.request, event.method), resourceLabel(event.request), codeLabel(event.code), event.source]);
      if (event.bytes) {
        upgradeBytes.inc({ cluster, direction: 'in' }, event.bytes.in);
        upgradeBytes.inc({ cluster, direction: 'out' }, event.bytes.out);
      }
    },
    credentialFetch(event) {
      clusters.learn(event.cluster);
      fetches.inc({ cluster: clusters.label(event.cluster), source: event.source, outcome: event.outcome });
    },
    sessionRefresh: (event) => refreshes.inc({ outcome: event.outcome }),
    tokenStoreError: () => storeErrors.inc(),
  };

  function handler(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('metrics are read with GET\n');
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics could not be collected: ${error instanceof Error ? error.message : String(error)}\n`);
      },
    );
  }

  return { hooks, handler, registry };
}
