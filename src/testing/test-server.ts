import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/** The part of a `ClusterProxy` that {@link serve} uses (structural, so the kit needs no core import). */
export interface ServedProxy {
  attach(server: Server | HttpsServer): void;
  close(): Promise<void>;
}

/** Options of {@link serve}. */
export interface ServeOptions {
  /** A proxy to attach to the server (its WebSocket and SPDY upgrades) and to close with it. Default: none. */
  proxy?: ServedProxy;
  /** Serve HTTPS with this certificate and key (PEM), e.g. for kubectl, which sends tokens only over TLS. Default: plain HTTP. */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

/** A host app listening on loopback, made by {@link serve}. */
export interface TestServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` (or `https://`), without a trailing slash. */
  readonly url: string;
  /** The listening server, e.g. to attach more upgrade handlers. */
  readonly server: Server | HttpsServer;
  /**
   * Closes the proxy (if given), then the server and every connection it still has, idle, busy
   * or upgraded, so it never waits on an open watch or terminal. Closing twice has no effect.
   */
  close(): Promise<void>;
}

/**
 * Serves a host app (an Express app or any `node:http` listener) on `127.0.0.1`, port 0, for
 * tests. With `await using`, the app, its proxy and every connection are closed when the test
 * ends, also when an assertion threw.
 *
 * @example
 * ```ts
 * await using app = await serve(expressApp, { proxy });
 * const client = testClient(`${app.url}/clusters/dev`, { token });
 * ```
 */
export async function serve(handler: RequestListener, options: ServeOptions = {}): Promise<TestServer> {
  if (typeof handler !== 'function') throw new TypeError('serve(): the handler must be an Express app or a (req, res) listener');
  const { proxy, tls } = options;
  if (proxy !== undefined && (typeof proxy?.attach !== 'function' || typeof proxy.close !== 'function')) {
    throw new TypeError('serve(): proxy must be a ClusterProxy (from createClusterProxy())');
  }
  const server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, handler) : createServer(handler);
  // Upgraded sockets leave the server's own connection tracking: keep every socket to end them all.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  proxy?.attach(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      try {
        await proxy?.close();
      } finally {
        const closed = once(server, 'close');
        server.close();
        for (const socket of sockets) socket.destroy();
        await closed;
      }
    })();
    return closing;
  };
  return { url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, server, close, [Symbol.asyncDispose]: close };
}
