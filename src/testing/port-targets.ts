import { createServer, type RequestListener, type Server } from 'node:http';
import { duplexPair, type Duplex } from 'node:stream';

/**
 * What listens on a port of a fake pod, reached by port-forward: a node:http request listener
 * (served as an HTTP/1.1 server on that port), or `'echo'`, a TCP server that sends back what it
 * receives.
 */
export type FakePortHandler = RequestListener | 'echo';

/** A pod's listening ports. `undefined`: the pod declared none, so every port echoes. */
export class PortTargets {
  readonly #handlers: ReadonlyMap<number, FakePortHandler> | undefined;
  readonly #servers = new Map<number, Server>();

  constructor(ports: Readonly<Record<number, FakePortHandler>> | undefined) {
    if (ports === undefined) return;
    const handlers = new Map<number, FakePortHandler>();
    for (const [key, handler] of Object.entries(ports)) {
      const port = Number(key);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError(`ports: ${JSON.stringify(key)} is not a port number (1-65535)`);
      if (handler !== 'echo' && typeof handler !== 'function') throw new TypeError(`ports: the handler of port ${port} must be a request listener or 'echo'`);
      handlers.set(port, handler);
    }
    this.#handlers = handlers;
  }

  /**
   * A new connection to `port`: the returned stream is the client's end. Throws the error a dial
   * would get (connection refused) when nothing listens there.
   */
  connect(port: number): Duplex {
    const handler = this.#handlers === undefined ? 'echo' : this.#handlers.get(port);
    if (handler === undefined) throw new Error(`dial tcp4 127.0.0.1:${port}: connect: connection refused`);
    const [client, server] = duplexPair();
    if (handler === 'echo') {
      server.pipe(server);
    } else {
      let http = this.#servers.get(port);
      if (!http) {
        http = createServer(handler);
        this.#servers.set(port, http);
      }
      // The HTTP server takes any byte stream as a connection; nothing listens on a real socket.
      http.emit('connection', server);
    }
    return client;
  }

  /** Ends the HTTP servers' connections (pod deleted, fake closing). */
  close(): void {
    for (const server of this.#servers.values()) server.closeAllConnections();
  }
}
