import type { Agent, IncomingMessage, ServerResponse } from 'node:http';
import { createProxyMiddleware } from 'http-proxy-middleware';
import type { ValidatedCluster } from '../clusters/cluster-config.ts';
import { UpstreamTimeoutError } from '../errors.ts';
import { attachExchange, exchangeOf, type Exchange } from '../exchange.ts';
import { clientResponseHeaders } from './headers.ts';
import { createResponseDeadlines } from './response-deadlines.ts';
import { displayServer } from './upstream-error.ts';

/** What the HTTP forwarder reports back to the pipeline. */
export interface ForwardObserver {
  /** The cluster's response headers arrived. */
  response(exchange: Exchange, statusCode: number): void;
  /** The request could not be completed; `res` may already be partly written. */
  failure(exchange: Exchange, res: ServerResponse, error: unknown): void;
}

/**
 * Forwards plain HTTP requests to one cluster with one agent, through http-proxy-middleware.
 * `req.url` must already be the upstream path and `req.headers` the upstream headers: the
 * pipeline prepared both. Responses stream through unbuffered; a client that goes away aborts
 * the upstream request.
 */
export function createHttpForwarder(
  cluster: ValidatedCluster,
  agent: Agent,
  observer: ForwardObserver,
): (req: IncomingMessage, res: ServerResponse, exchange: Exchange) => void {
  // The timeout is the proxy's; the deadlines of one cluster's requests share one timer.
  const deadlines = new Map<number, ReturnType<typeof createResponseDeadlines>>();
  const deadlinesFor = (timeoutMs: number) => {
    let found = deadlines.get(timeoutMs);
    if (!found) {
      found = createResponseDeadlines(timeoutMs, (proxyReq) =>
        proxyReq.destroy(
          new UpstreamTimeoutError(cluster.name, `cluster "${cluster.name}" (${displayServer(cluster)}) did not answer within ${timeoutMs} ms`),
        ),
      );
      deadlines.set(timeoutMs, found);
    }
    return found;
  };

  const middleware = createProxyMiddleware<IncomingMessage, ServerResponse>({
    target: cluster.server.href,
    agent,
    changeOrigin: true,
    secure: !cluster.insecureSkipTLSVerify,
    xfwd: false,
    followRedirects: false,
    // The default plugins log with their own format and answer errors in plain text; the pipeline
    // answers every error with a Kubernetes Status instead.
    ejectPlugins: true,
    plugins: [
      (server) => {
        server.on('proxyReq', (proxyReq, req) => {
          const exchange = exchangeOf(req);
          if (exchange && !exchange.streaming) deadlinesFor(exchange.timeoutMs).start(req, proxyReq);
        });
        server.on('proxyRes', (proxyRes, req, res) => {
          const exchange = exchangeOf(req);
          if (exchange && !exchange.streaming) deadlinesFor(exchange.timeoutMs).stop(req);
          // A watch may stay silent for minutes: its headers go out now (once httpxy has set them),
          // not with the first event, so that clients see it start (kubectl wait does, after a list).
          if (exchange?.streaming) process.nextTick(() => res.headersSent || res.destroyed || res.flushHeaders());
          proxyRes.headers = clientResponseHeaders(proxyRes.headers);
          // http-proxy-middleware then sets Connection from the client's request, whose own header
          // the pipeline removed: say "close" here when the client asked for it.
          if (exchange?.clientCloses) proxyRes.headers.connection = 'close';
          if (exchange) observer.response(exchange, proxyRes.statusCode ?? 0);
        });
        server.on('error', (error, req, res) => {
          const exchange = req && exchangeOf(req);
          if (exchange && res && 'writeHead' in res) observer.failure(exchange, res, error);
        });
        // The client went away before the answer: nothing is left to answer.
        server.on('econnreset', () => {});
      },
    ],
  });

  return (req, res, exchange) => {
    attachExchange(req, exchange);
    middleware(req, res).catch((error: unknown) => observer.failure(exchange, res, error));
  };
}
