/**
 * `kube-cluster-proxy/metrics`: a Prometheus exporter for the proxy's hooks, on prom-client
 * (an optional peer dependency, needed only by this entry point).
 */
export { prometheusMetrics, type PrometheusMetrics, type PrometheusMetricsOptions } from './prometheus-metrics.ts';
export { MAX_LEARNED_CLUSTERS } from './labels.ts';
