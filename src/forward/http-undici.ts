import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { buildConnector, Client, Pool, type Dispatcher } from 'undici';
import type { ValidatedCluster } from '../clusters/cluster-config.ts';
import { UpstreamTimeoutError } from '../errors.ts';
import type { Exchange } from '../pipeline/exchange.ts';
import type { Deadlines } from './deadlines.ts';
import { clientResponseHeaders } from './headers.ts';
import type { HttpForwarder } from './http-forwarder.ts';
import type { ForwardObserver } from './observer.ts';
import type { RouteTls } from './route-tls.ts';
import { displayServer } from './upstream-error.ts';
import { upstreamPath } from './upstream-path.ts';

function withoutTransferEncoding(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const { 'transfer-encoding': _chunked, ...rest } = headers;
  return rest;
}

/**
 * Streams one HTTP/2 connection carries at once, at most: undici's own default for
 * `maxConcurrentStreams`, below the 250 Go's HTTP/2 server (kube-apiserver) allows. A route with
 * more in flight (a hundred watches) gets a second connection.
 */
const HTTP2_STREAMS = 100;

/**
 * The pool's clients, for `http2`: undici 7 multiplexes an HTTP/2 connection only as far as its
 * `pipelining` allows, and pipelining over HTTP/1.1 would queue requests behind a watch. So each
 * connection takes its pipelining from what ALPN chose: the streams for h2, 1 for HTTP/1.1 (a
 * server that refused h2).
 */
function http2Client(origin: URL, options: Client.Options): Client {
  const connect = options.connect as buildConnector.connector;
  const client: Client = new Client(origin, {
    ...options,
    connect: (connectOptions, callback) =>
      connect(connectOptions, (error, socket) => {
        if (error) return callback(error, null);
        const tlsSocket = socket as TLSSocket; // an http2 route is an https: one
        client.pipelining = tlsSocket.alpnProtocol === 'h2' ? HTTP2_STREAMS : 1;
        callback(null, tlsSocket);
      }),
  });
  return client;
}

/**
 * An HTTP forwarder on one undici connection pool, made once per cluster and identity route:
 * keep-alive connections with the cluster's TLS settings, the client certificate only when given.
 * Bodies stream both ways with backpressure and are never buffered; the deadline covers the wait
 * for the response headers only, so watches and followed logs run as long as they last.
 */
export function createUndiciForwarder(
  cluster: ValidatedCluster,
  tls: RouteTls | undefined,
  observer: ForwardObserver,
  deadlines: Deadlines,
): HttpForwarder {
  // The route's one secure context; undici keeps its own TLS session cache per server name. With
  // http2 it offers h2 by ALPN (a connector of our own gets no ALPN from the pool's allowH2).
  const http2 = cluster.http2 && tls !== undefined; // validation refused http2 on an http: server
  const connector = buildConnector(tls === undefined ? {} : { secureContext: tls.secureContext, rejectUnauthorized: tls.rejectUnauthorized, allowH2: http2 });
  const servername = tls?.servername;
  const options: Pool.Options = {
    // undici names the server by the request's Host otherwise: tlsServerName must win, for SNI and
    // for the name the certificate is verified against.
    connect: servername === undefined ? connector : (options, callback) => connector({ ...options, servername }, callback),
    // The proxy's own deadline covers the headers; a stream has none once it started.
    headersTimeout: 0,
    bodyTimeout: 0,
    allowH2: http2,
  };
  const pool = new Pool(cluster.server.origin, http2 ? { ...options, factory: http2Client } : options);
  // undici 7 starts a streamed request body on an HTTP/2 connection only once no other stream is
  // open on it: behind a watch, a create would wait for ever. Requests with a body take connections
  // of their own, one request at a time each, as over HTTP/1.1 (still HTTP/2 on the wire).
  const writes = http2 ? new Pool(cluster.server.origin, options) : pool;

  function forward(req: IncomingMessage, res: ServerResponse, exchange: Exchange): void {
    let controller: Dispatcher.DispatchController | undefined;
    let done = false;
    const deadline = deadlines.start(exchange.timeoutMs, () =>
      controller?.abort(
        new UpstreamTimeoutError(`cluster "${cluster.name}" (${displayServer(cluster)}) did not answer within ${exchange.timeoutMs} ms`, { cluster: cluster.name }),
      ),
    );
    // The client went away: the request to the cluster is cancelled (a watch stops at once).
    const onClose = () => {
      if (!done) controller?.abort(new Error('the client went away'));
    };
    res.once('close', onClose);
    const finish = () => {
      done = true;
      deadline.stop();
      res.off('close', onClose);
    };
    // undici frames a streamed body itself and refuses the header; only a chunked body pays the copy.
    const headers = exchange.headers['transfer-encoding'] === undefined ? exchange.headers : withoutTransferEncoding(exchange.headers);
    (exchange.hasBody ? writes : pool).dispatch(
      {
        origin: cluster.server.origin,
        path: upstreamPath(cluster.server, exchange.path),
        method: exchange.method,
        headers: headers as Record<string, string | string[]>,
        body: exchange.hasBody ? req : null,
        // undici holds a request it calls non-idempotent (any but GET and HEAD) until the other
        // streams of its HTTP/2 connection end, so that none fails with it; a DELETE behind a watch
        // would never start. The proxy retries nothing, so there is nothing to protect.
        ...(http2 ? { idempotent: true } : {}),
      },
      {
        onRequestStart(c) {
          controller = c;
          if (res.destroyed) c.abort(new Error('the client went away'));
        },
        onResponseStart(c, statusCode, responseHeaders, statusMessage) {
          deadline.stop();
          observer.response(exchange, statusCode);
          // HTTP/2 has no reason phrase (undici gives ''): node:http then writes the standard one.
          res.writeHead(statusCode, statusMessage || undefined, clientResponseHeaders(responseHeaders) as never);
          // A watch may stay silent for minutes: its headers go out now. Any other response sends
          // them with its first bytes, one write instead of two.
          if (exchange.streaming) res.flushHeaders();
          res.on('drain', () => c.resume());
          if (exchange.streaming) {
            observer.streamStarted(exchange, res, () => {
              if (done) return;
              finish();
              c.abort(new Error('the proxy ended the stream'));
              res.end();
            });
          }
        },
        onResponseData(c, chunk) {
          if (done) return;
          if (!res.write(chunk)) c.pause();
        },
        onResponseEnd() {
          if (done) return;
          finish();
          res.end();
        },
        onResponseError(_c, error) {
          if (done) return; // the proxy ended the stream itself
          finish();
          if (res.headersSent) res.destroy(); // a cut stream, never a truncated body passed off as complete
          else observer.failure(exchange, error, res);
        },
      },
    );
  }

  const pools = writes === pool ? [pool] : [pool, writes];
  return {
    forward,
    retire: () => pools.forEach((p) => void p.close().catch(() => {})),
    close: async () => void (await Promise.all(pools.map((p) => p.destroy().catch(() => {})))),
  };
}
