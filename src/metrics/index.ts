/**
 * A Prometheus exporter for the proxy's hooks, on prom-client (an optional peer dependency,
 * needed only by this entry point): {@link prometheusMetrics}.
 * @module kube-cluster-proxy/metrics
 */
// The public types use Node's (node:http): consumers need @types/node.
/// <reference types="node" preserve="true" />
// First, so that an old Node fails with a message naming the version it needs.
import '../node-version.ts';
export { prometheusMetrics, type PrometheusMetrics, type PrometheusMetricsOptions } from './prometheus-metrics.ts';
export { MAX_LEARNED_CLUSTERS } from './labels.ts';
