import { request as httpRequest, type Agent, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ValidatedCluster } from '../clusters/cluster-config.ts';
import { UpstreamTimeoutError } from '../errors.ts';
import type { Exchange } from '../pipeline/exchange.ts';
import type { Deadlines } from './deadlines.ts';
import type { ForwardObserver } from './observer.ts';
import { displayServer } from './upstream-error.ts';
import { upstreamPath } from './upstream-path.ts';

/** Largest refusal body (e.g. a 401 Status) relayed to a client whose upgrade the cluster refused. */
const MAX_REFUSAL_BODY = 1024 * 1024;

const NOT_RELAYED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade']);

function headerBlock(rawHeaders: string[], skip: ReadonlySet<string>): string {
  let block = '';
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (!skip.has(rawHeaders[i]!.toLowerCase())) block += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`;
  }
  return block;
}

/** Both ends of a pipe: no Nagle delay (keystrokes of a terminal), no idle timeout (a quiet watch). */
function tune(socket: Duplex): void {
  (socket as Partial<Socket>).setNoDelay?.(true);
  (socket as Partial<Socket>).setTimeout?.(0);
}

/**
 * Pipes an upgraded pair both ways; when either side closes or resets, so does the other, at once.
 * A function of its own so that an idle session keeps only the two sockets and its exchange alive,
 * not the request objects and the parsers' `head` buffers (slices of 64 KiB read buffers) that
 * the handshake's closures hold: thousands of idle watches and terminals are the common case.
 */
function pipeSockets(socket: Duplex, upstream: Duplex, exchange: Exchange, observer: ForwardObserver): void {
  tune(upstream);
  tune(socket);
  upstream.pipe(socket);
  socket.pipe(upstream);
  let closed = false;
  const close = (by: 'client' | 'cluster') => {
    if (closed) return;
    closed = true;
    socket.destroy();
    upstream.destroy();
    observer.closed(exchange, socket, by);
  };
  const byClient = () => close('client');
  const byCluster = () => close('cluster');
  socket.on('error', byClient);
  upstream.on('error', byCluster);
  socket.once('close', byClient);
  upstream.once('close', byCluster);
}

/** Relays the cluster's refusal of an upgrade (a `401` Status, say) to the client, bounded. */
function relayRefusal(response: IncomingMessage, socket: Duplex): void {
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
    const head =
      `HTTP/1.1 ${response.statusCode} ${response.statusMessage ?? ''}\r\n` +
      headerBlock(response.rawHeaders, NOT_RELAYED) +
      `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
    socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
    setTimeout(() => socket.destroy(), 2_000).unref();
  });
}

/**
 * Forwards a connection upgrade of any kind (`websocket`, `SPDY/3.1`) to the cluster over HTTP/1.1
 * with the route's agent, relays the cluster's `101` and its headers untouched (so the echoed
 * subprotocol is the cluster's choice among those the client offered), then pipes both sockets.
 */
export function createUpgradeForwarder(cluster: ValidatedCluster, agent: Agent, observer: ForwardObserver, deadlines: Deadlines) {
  const request = cluster.server.protocol === 'https:' ? httpsRequest : httpRequest;
  const target = {
    protocol: cluster.server.protocol,
    hostname: cluster.server.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: cluster.server.port || (cluster.server.protocol === 'https:' ? 443 : 80),
  };

  return function forwardUpgrade(_req: IncomingMessage, socket: Duplex, head: Buffer, exchange: Exchange): void {
    const upstreamReq = request({ ...target, method: exchange.method, path: upstreamPath(cluster.server, exchange.path), headers: exchange.headers, agent });
    let answered = false;
    const deadline = deadlines.start(exchange.timeoutMs, () =>
      upstreamReq.destroy(
        new UpstreamTimeoutError(`cluster "${cluster.name}" (${displayServer(cluster)}) did not answer the upgrade within ${exchange.timeoutMs} ms`, { cluster: cluster.name }),
      ),
    );
    const abandon = () => {
      if (!answered) upstreamReq.destroy();
    };
    socket.once('close', abandon);
    const settle = () => {
      answered = true;
      deadline.stop();
      socket.off('close', abandon);
    };

    upstreamReq.on('upgrade', (response, upstream, upstreamHead) => {
      settle();
      if (socket.destroyed) {
        upstream.destroy();
        return;
      }
      socket.write(`HTTP/1.1 101 ${response.statusMessage || 'Switching Protocols'}\r\n${headerBlock(response.rawHeaders, new Set())}\r\n`);
      if (upstreamHead.length > 0) socket.write(upstreamHead);
      if (head.length > 0) upstream.write(head);
      pipeSockets(socket, upstream, exchange, observer);
      const protocol: string | undefined = response.headers['sec-websocket-protocol'];
      observer.opened(exchange, socket, protocol, upstream, { fromClient: head, fromCluster: upstreamHead });
    });

    upstreamReq.on('response', (response) => {
      settle();
      observer.response(exchange, response.statusCode ?? 0);
      relayRefusal(response, socket);
    });

    upstreamReq.on('error', (error) => {
      if (answered) return;
      settle();
      observer.failure(exchange, error, socket);
    });

    upstreamReq.end();
  };
}
