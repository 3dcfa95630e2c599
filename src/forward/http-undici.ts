import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { buildConnector, Pool, type Dispatcher } from 'undici';
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
  // The route's one secure context; undici keeps its own TLS session cache per server name.
  const connector = buildConnector(tls === undefined ? {} : { secureContext: tls.secureContext, rejectUnauthorized: tls.rejectUnauthorized });
  const servername = tls?.servername;
  const pool = new Pool(cluster.server.origin, {
    // undici names the server by the request's Host otherwise: tlsServerName must win, for SNI and
    // for the name the certificate is verified against.
    connect: servername === undefined ? connector : (options, callback) => connector({ ...options, servername }, callback),
    // The proxy's own deadline covers the headers; a stream has none once it started.
    headersTimeout: 0,
    bodyTimeout: 0,
  });

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
    pool.dispatch(
      {
        origin: cluster.server.origin,
        path: upstreamPath(cluster.server, exchange.path),
        method: exchange.method,
        headers: headers as Record<string, string | string[]>,
        body: exchange.hasBody ? req : null,
      },
      {
        onRequestStart(c) {
          controller = c;
          if (res.destroyed) c.abort(new Error('the client went away'));
        },
        onResponseStart(c, statusCode, responseHeaders, statusMessage) {
          deadline.stop();
          observer.response(exchange, statusCode);
          res.writeHead(statusCode, statusMessage, clientResponseHeaders(responseHeaders) as never);
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

  return {
    forward,
    retire: () => void pool.close().catch(() => {}),
    close: () => pool.destroy().catch(() => {}),
  };
}
