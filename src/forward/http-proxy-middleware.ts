import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { createProxyMiddleware } from 'http-proxy-middleware';
import type { ValidatedCluster } from '../clusters/cluster-config.ts';
import { UpstreamTimeoutError } from '../errors.ts';
import type { Exchange } from '../pipeline/exchange.ts';
import { closeIdleSockets, createClusterAgent } from './agents.ts';
import type { Deadline, Deadlines } from './deadlines.ts';
import { clientResponseHeaders } from './headers.ts';
import type { HttpForwarder } from './http-forwarder.ts';
import type { ForwardObserver } from './observer.ts';
import type { RouteTls } from './route-tls.ts';
import { displayServer } from './upstream-error.ts';

// On the request itself rather than in a WeakMap: thousands of ephemeron entries a second make
// garbage collection pauses longer.
const EXCHANGE = Symbol('kube-cluster-proxy.exchange');
const UPSTREAM = Symbol('kube-cluster-proxy.upstream-request');
const DEADLINE = Symbol('kube-cluster-proxy.deadline');
type Tagged = IncomingMessage & { [EXCHANGE]?: Exchange; [UPSTREAM]?: ClientRequest; [DEADLINE]?: Deadline };

/**
 * The `'http-proxy-middleware'` engine: node:http's client with a keep-alive agent, through
 * http-proxy-middleware, for hosts that prefer it. The prepared path and headers are put on the
 * client's request here, at the edge, because that is what http-proxy-middleware reads.
 */
export function createHttpProxyMiddlewareForwarder(
  cluster: ValidatedCluster,
  tls: RouteTls | undefined,
  observer: ForwardObserver,
  deadlines: Deadlines,
): HttpForwarder {
  const agent = createClusterAgent(tls);
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
          (req as Tagged)[UPSTREAM] = proxyReq;
        });
        server.on('proxyRes', (proxyRes, req, res) => {
          (req as Tagged)[DEADLINE]?.stop();
          const exchange = (req as Tagged)[EXCHANGE];
          // A watch may stay silent for minutes: its headers go out now (once httpxy has set them),
          // not with the first event, so that clients see it start (kubectl wait does, after a list).
          if (exchange?.streaming) process.nextTick(() => res.headersSent || res.destroyed || res.flushHeaders());
          proxyRes.headers = clientResponseHeaders(proxyRes.headers);
          // http-proxy-middleware sets Connection from the request's headers, which are now the
          // upstream's: say "close" here when the client asked for it.
          if (exchange?.clientCloses) proxyRes.headers.connection = 'close';
          if (exchange) observer.response(exchange, proxyRes.statusCode ?? 0);
          if (exchange?.streaming) {
            observer.streamStarted(exchange, res, () => {
              proxyRes.unpipe(res);
              proxyRes.on('error', () => {});
              proxyRes.destroy();
              res.end();
            });
          }
        });
        server.on('error', (error, req, res) => {
          const exchange = req && (req as Tagged)[EXCHANGE];
          if (exchange && res && 'writeHead' in res) observer.failure(exchange, error, res);
        });
        // The client went away before the answer: nothing is left to answer.
        server.on('econnreset', () => {});
      },
    ],
  });

  return {
    forward(req, res, exchange) {
      const tagged = req as Tagged;
      tagged[EXCHANGE] = exchange;
      req.url = exchange.path;
      req.headers = exchange.headers;
      // The deadline covers the wait for the response headers, streams included.
      const deadline = deadlines.start(exchange.timeoutMs, () => {
        const error = new UpstreamTimeoutError(`cluster "${cluster.name}" (${displayServer(cluster)}) did not answer within ${exchange.timeoutMs} ms`, { cluster: cluster.name });
        const upstream = tagged[UPSTREAM];
        if (upstream) upstream.destroy(error);
        else observer.failure(exchange, error, res);
      });
      tagged[DEADLINE] = deadline;
      res.once('close', () => deadline.stop());
      middleware(req, res).catch((error: unknown) => observer.failure(exchange, error, res));
    },
    retire: () => closeIdleSockets(agent),
    close: () => {
      agent.destroy();
      return Promise.resolve();
    },
  };
}
