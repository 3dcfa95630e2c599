import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ClusterProxyError } from '../errors.ts';

/**
 * One request's trace, as the pipeline sees it: the steps it takes and how it was answered. The
 * OpenTelemetry types stay behind it (see open-telemetry.ts), so that nothing else in the proxy,
 * nor its public types, needs `@opentelemetry/api` installed.
 */
export interface RequestTrace {
  /** Runs one step of the preparation (`'prepare'`, `'identify'`, `'credentials'`) in a span of its own, a child of the step under way. */
  step<T>(name: string, run: () => Promise<T>): Promise<T>;
  /**
   * The request is about to go to `server`: starts the upstream span and puts its context on
   * `headers` (W3C `traceparent`, or whatever the host's propagator writes), in place of the
   * client's own fields, so that the cluster joins the trace.
   */
  upstream(headers: IncomingHttpHeaders, server: URL, method: string): void;
  /** The cluster answered: its status code (`101` when it switched protocols). */
  upstreamAnswered(statusCode: number): void;
  /** The proxy answered with an error of its own (the upstream span, if open, failed with it). */
  answered(error: ClusterProxyError): void;
}

/** Starts a trace per request; `undefined` in the pipeline when tracing is off or `@opentelemetry/api` is not installed. */
export interface Tracing {
  /**
   * Starts the request's span, ended when `client` (the response, or the upgrade's socket) closes;
   * `undefined` when the request goes untraced (no SDK records it, and no trace comes with it).
   * @param path the path for the cluster, with its query (which no attribute carries).
   */
  start(req: IncomingMessage, client: ServerResponse | Duplex, cluster: string, path: string, upgrade: boolean): RequestTrace | undefined;
}
