import { request as httpRequest, type Agent, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import type { ValidatedCluster } from '../clusters/cluster-config.ts';
import { UpstreamTimeoutError } from '../errors.ts';
import type { Exchange } from '../exchange.ts';
import { displayServer } from './upstream-error.ts';

/** Largest refusal body (e.g. a 401 Status) relayed to a client whose upgrade the cluster refused. */
const MAX_REFUSAL_BODY = 1024 * 1024;

const NOT_RELAYED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade']);

/** What the upgrade forwarder reports back to the pipeline. */
export interface UpgradeObserver {
  /** The cluster switched protocols; both sockets are piped. */
  opened(exchange: Exchange, response: IncomingMessage): void;
  /** The upgraded connection ended. */
  closed(exchange: Exchange): void;
  /** The cluster refused the upgrade with an ordinary response, relayed as is. */
  refused(exchange: Exchange, statusCode: number): void;
  /** The cluster could not be reached; the client socket still awaits an answer when `answerable`. */
  failure(exchange: Exchange, socket: Duplex, error: unknown, answerable: boolean): void;
}

function joinPath(prefix: string, path: string): string {
  return prefix === '/' ? path : prefix.replace(/\/$/, '') + path;
}

function headerBlock(rawHeaders: string[], skip: Set<string>): string {
  let block = '';
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (!skip.has(rawHeaders[i]!.toLowerCase())) block += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`;
  }
  return block;
}

/**
 * Forwards a connection upgrade of any kind (`websocket`, `SPDY/3.1`, ...) to the cluster over
 * HTTP/1.1 with the cluster's agent, relays the cluster's `101` and its headers untouched (so the
 * echoed subprotocol is the cluster's choice among those the client offered), then pipes both
 * sockets; when either side closes, so does the other.
 *
 * `req.headers` must already be the upstream headers and `exchange.path` the upstream path.
 */
export function forwardUpgrade(
  cluster: ValidatedCluster,
  agent: Agent,
  exchange: Exchange,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  observer: UpgradeObserver,
): void {
  const server = cluster.server;
  const upstreamReq = (server.protocol === 'https:' ? httpsRequest : httpRequest)({
    protocol: server.protocol,
    hostname: server.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: server.port || (server.protocol === 'https:' ? 443 : 80),
    method: req.method,
    path: joinPath(server.pathname, exchange.path),
    headers: { ...req.headers, host: server.host },
    agent,
  });
  let answered = false;

  const timer = setTimeout(() => {
    upstreamReq.destroy(
      new UpstreamTimeoutError(
        cluster.name,
        `cluster "${cluster.name}" (${displayServer(cluster)}) did not answer the upgrade within ${exchange.timeoutMs} ms`,
      ),
    );
  }, exchange.timeoutMs);
  timer.unref();

  const abandon = () => {
    if (!answered) upstreamReq.destroy();
  };
  socket.once('close', abandon);

  upstreamReq.on('upgrade', (response, upstream, upstreamHead) => {
    answered = true;
    clearTimeout(timer);
    socket.off('close', abandon);
    if (socket.destroyed) {
      upstream.destroy();
      return;
    }
    upstream.setNoDelay(true);
    upstream.setTimeout(0);
    (socket as Partial<{ setNoDelay(v: boolean): void; setTimeout(ms: number): void }>).setNoDelay?.(true);
    (socket as Partial<{ setTimeout(ms: number): void }>).setTimeout?.(0);
    socket.write(`HTTP/1.1 101 ${response.statusMessage || 'Switching Protocols'}\r\n${headerBlock(response.rawHeaders, new Set())}\r\n`);
    if (upstreamHead.length > 0) socket.write(upstreamHead);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      socket.destroy();
      upstream.destroy();
      observer.closed(exchange);
    };
    socket.on('error', close);
    upstream.on('error', close);
    socket.once('close', close);
    upstream.once('close', close);
    observer.opened(exchange, response);
  });

  upstreamReq.on('response', (response) => {
    answered = true;
    clearTimeout(timer);
    socket.off('close', abandon);
    observer.refused(exchange, response.statusCode ?? 0);
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      if (size + chunk.length <= MAX_REFUSAL_BODY) chunks.push(chunk);
      size += chunk.length;
    });
    response.on('error', () => socket.destroy());
    response.on('end', () => {
      const body = Buffer.concat(chunks);
      if (socket.destroyed || !socket.writable) return;
      socket.end(
        Buffer.concat([
          Buffer.from(
            `HTTP/1.1 ${response.statusCode} ${response.statusMessage ?? ''}\r\n` +
              headerBlock(response.rawHeaders, NOT_RELAYED) +
              `content-length: ${body.length}\r\nconnection: close\r\n\r\n`,
            'latin1',
          ),
          body,
        ]),
      );
      setTimeout(() => socket.destroy(), 2_000).unref();
    });
  });

  upstreamReq.on('error', (error) => {
    clearTimeout(timer);
    socket.off('close', abandon);
    const answerable = !answered;
    answered = true;
    observer.failure(exchange, socket, error, answerable);
  });

  upstreamReq.end();
}
