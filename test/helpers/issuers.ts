import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { closeServer, listen } from './servers.ts';

/** A server the test started, closed with every connection it holds. */
export interface TestServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A hand-written issuer on loopback, for answers a real provider never gives (malformed
 * discovery documents, huge bodies, failing endpoints). `handler` gets the issuer's own URL.
 */
export async function startIssuer(handler: (issuer: string) => RequestListener, tls?: { cert: string; key: string }): Promise<TestServer> {
  const server: Server = tls ? createHttpsServer(tls) : createServer();
  const url = await listen(server);
  server.on('request', handler(url));
  return { url, close: () => closeServer(server) };
}

/** An issuer answering `documents[path]` as JSON (a string is sent as it is), `404` elsewhere. */
export function jsonIssuer(documents: (issuer: string) => Record<string, unknown>): (issuer: string) => RequestListener {
  return (issuer) => (req, res) => {
    const body = documents(issuer)[new URL(req.url ?? '/', issuer).pathname];
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
  };
}

/** A TCP server that accepts connections and never answers: an issuer that hangs. */
export async function startHungServer(): Promise<TestServer & { readonly connections: number }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createNetServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
