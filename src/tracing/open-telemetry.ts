import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import type * as Otel from '@opentelemetry/api';
import { ClusterProxyError, InvalidOptionError, statusOf } from '../errors.ts';
import { parseRequestInfo } from '../pipeline/request-info.ts';
import type { RequestTrace, Tracing } from './request-trace.ts';

/** The name the proxy's tracer goes by (the instrumentation scope). */
export const TRACER_NAME = 'kube-cluster-proxy';

type Api = typeof Otel;

/**
 * `@opentelemetry/api` when the host installed it, else `undefined`. Loaded synchronously, once, so
 * that `createClusterProxy()` stays synchronous; the API keeps its state in a process-wide global,
 * so this copy and the host's (ESM or CommonJS) share the tracer provider and propagator the host's
 * SDK registers.
 */
export function loadOpenTelemetry(require: (id: string) => unknown = createRequire(import.meta.url)): Api | undefined {
  try {
    const api = require('@opentelemetry/api') as Partial<Api>;
    return typeof api.trace?.getTracer === 'function' && typeof api.propagation?.inject === 'function' ? (api as Api) : undefined;
  } catch {
    return undefined;
  }
}

/** The attributes of the request itself: OpenTelemetry's semantic conventions where they have a name, `k8s.*` for the rest. */
function requestAttributes(req: IncomingMessage, cluster: string, path: string, upgrade: boolean): Otel.Attributes {
  const method = req.method ?? 'GET';
  const info = parseRequestInfo(method, path);
  const attributes: Otel.Attributes = {
    'http.request.method': method,
    'url.path': info.path,
    'k8s.cluster.name': cluster,
    'k8s.request.verb': info.verb,
  };
  if (info.isResourceRequest) {
    attributes['k8s.request.resource'] = info.resource;
    attributes['k8s.request.api_group'] = info.apiGroup;
    attributes['k8s.request.api_version'] = info.apiVersion;
    if (info.subresource !== '') attributes['k8s.request.subresource'] = info.subresource;
    if (info.namespace !== '') attributes['k8s.namespace.name'] = info.namespace;
    if (info.name !== '') attributes['k8s.request.name'] = info.name;
  }
  if (upgrade) attributes['http.request.header.upgrade'] = [String(req.headers.upgrade)];
  const agent = req.headers['user-agent'];
  if (agent !== undefined) attributes['user_agent.original'] = agent;
  return attributes;
}

/** A low-cardinality name: the verb and resource, never a name or path of the request. */
function spanName(attributes: Otel.Attributes): string {
  const resource = attributes['k8s.request.resource'];
  const subresource = attributes['k8s.request.subresource'];
  const what = resource === undefined ? '' : ` ${String(resource)}${subresource === undefined ? '' : `/${String(subresource)}`}`;
  return `${TRACER_NAME} ${String(attributes['k8s.request.verb'])}${what}`;
}

/**
 * Tracing on `@opentelemetry/api`: a span per request (a server span, or an internal one under the
 * host's own when its HTTP instrumentation made one), children for the preparation steps and a
 * client span for the request to the cluster, whose context the cluster receives.
 */
export function openTelemetryTracing(api: Api): Tracing {
  const { trace, context, propagation, SpanKind, SpanStatusCode, isSpanContextValid } = api;

  function fail(span: Otel.Span, statusCode: number, errorType: string, message: string): void {
    span.setAttribute('error.type', errorType);
    if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message });
  }

  return {
    start(req: IncomingMessage, client: ServerResponse | Duplex, cluster: string, path: string, upgrade: boolean): RequestTrace | undefined {
      const tracer = trace.getTracer(TRACER_NAME);
      const active = context.active();
      const nested = trace.getSpan(active) !== undefined;
      // Under the host's own server span, that span is the parent; else the client's traceparent is.
      const parent = nested ? active : propagation.extract(active, req.headers);
      const server = tracer.startSpan(`${TRACER_NAME} ${req.method ?? 'GET'}`, { kind: nested ? SpanKind.INTERNAL : SpanKind.SERVER }, parent);
      // Without an SDK the span neither records nor carries a trace to pass on: the request goes
      // untraced, since the API's contexts and no-op spans would cost ~4.8 KB of garbage per request (measured).
      // A span sampled out still has a valid context, which the cluster must receive.
      if (!server.isRecording() && !isSpanContextValid(server.spanContext())) return undefined;
      if (server.isRecording()) {
        const attributes = requestAttributes(req, cluster, path, upgrade);
        server.setAttributes(attributes);
        server.updateName(spanName(attributes));
      }
      const serverContext = trace.setSpan(parent, server);
      let stepContext = serverContext;
      let upstream: Otel.Span | undefined;
      let statusCode: number | undefined;
      let answeredWith: ClusterProxyError | undefined;

      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        const code = 'writeHead' in client && client.headersSent ? client.statusCode : statusCode;
        if (code !== undefined) {
          server.setAttribute('http.response.status_code', code);
          if (code >= 500 && !answeredWith) fail(server, code, String(code), `the cluster answered ${code}`);
        }
        upstream?.end();
        server.end();
      };
      client.once('close', end);
      // Gone already: its 'close' may have been emitted before the span began.
      if (client.destroyed) process.nextTick(end);

      return {
        async step(name, run) {
          const outer = stepContext;
          const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL }, outer);
          stepContext = trace.setSpan(outer, span);
          try {
            return await run();
          } catch (error) {
            // A refusal (401, policy 403) is the step's answer, not its failure.
            if (error instanceof ClusterProxyError) fail(span, statusOf(error.code).code, error.code, error.message);
            else fail(span, 500, error instanceof Error ? error.name : typeof error, 'unexpected error');
            throw error;
          } finally {
            stepContext = outer;
            span.end();
          }
        },
        upstream(headers, target, method) {
          upstream = tracer.startSpan(
            `${TRACER_NAME} upstream ${method}`,
            {
              kind: SpanKind.CLIENT,
              attributes: {
                'http.request.method': method,
                'server.address': target.hostname.replace(/^\[(.*)\]$/, '$1'),
                'server.port': Number(target.port || (target.protocol === 'https:' ? 443 : 80)),
                'k8s.cluster.name': cluster,
              },
            },
            serverContext,
          );
          const carrier: Record<string, string> = {};
          propagation.inject(trace.setSpan(serverContext, upstream), carrier);
          // Only when a propagator wrote something: without one the request stays as it came.
          if (Object.keys(carrier).length === 0) return;
          for (const field of propagation.fields()) delete headers[field.toLowerCase()];
          Object.assign(headers, carrier);
        },
        upstreamAnswered(code) {
          statusCode = code;
          if (!upstream) return;
          upstream.setAttribute('http.response.status_code', code);
          if (code >= 400) upstream.setAttribute('error.type', String(code));
          if (code >= 500) upstream.setStatus({ code: SpanStatusCode.ERROR });
          upstream.end();
          upstream = undefined;
        },
        answered(error) {
          answeredWith = error;
          statusCode = statusOf(error.code).code;
          if (upstream) {
            fail(upstream, 500, error.code, error.message);
            upstream.end();
            upstream = undefined;
          }
          fail(server, statusCode, error.code, error.message);
        },
      };
    },
  };
}

/**
 * The `tracing` option, resolved: the package is looked for once, here.
 * @param load finds `@opentelemetry/api` (tests pass one that does not).
 */
export function resolveTracing(option: unknown, load = loadOpenTelemetry): Tracing | undefined {
  if (option !== undefined && typeof option !== 'boolean') throw new InvalidOptionError(`tracing must be true, false or left out; got ${JSON.stringify(option)}`);
  if (option === false) return undefined;
  const api = load();
  if (!api && option === true) {
    throw new InvalidOptionError('tracing is true, but @opentelemetry/api is not installed: npm install @opentelemetry/api, and register an OpenTelemetry SDK to record the spans');
  }
  return api ? openTelemetryTracing(api) : undefined;
}
