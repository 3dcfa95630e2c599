import { createServer, request, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import express from 'express';
import express4 from 'express4';
import { createClusterProxy, type ClusterProxy, type ClusterProxyOptions } from 'kube-cluster-proxy';

/**
 * The forwarding engine under test: vitest.config.ts runs the HTTP end-to-end tests once per
 * engine and says which in KCP_TEST_ENGINE; the library's default otherwise.
 */
export function testEngine(): NonNullable<ClusterProxyOptions['engine']> {
  const engine = process.env.KCP_TEST_ENGINE;
  return engine === 'http-proxy-middleware' ? engine : 'undici';
}

/** Listens on a free loopback port and returns the base URL. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const scheme = 'setSecureContext' in server ? 'https' : 'http';
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A port free on loopback right now, for servers that cannot listen on port 0 (redis-server) or must be known in advance. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Closes a server and every connection it still holds. */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export type HostKind = 'express5' | 'express4' | 'node-http';

/** A host app with the proxy mounted at `mountPath`, the way the README shows. */
export interface ProxyHost {
  url: string;
  server: Server;
  proxy: ClusterProxy;
  close(): Promise<void>;
}

/**
 * @param tls serve HTTPS with this certificate: kubectl sends bearer tokens only over TLS.
 */
export async function startProxyHost(
  options: ClusterProxyOptions,
  kind: HostKind = 'express5',
  tls?: { cert: string; key: string },
): Promise<ProxyHost> {
  const proxy = createClusterProxy({ engine: testEngine(), ...options });
  const mountPath = proxy.mountPath;
  let listener: RequestListener;
  if (kind === 'node-http') {
    listener = (req, res) => proxy(req, res);
  } else {
    const app = kind === 'express5' ? express() : express4();
    app.get('/healthz', (_req, res) => {
      res.send('ok');
    });
    app.use(mountPath, proxy);
    listener = app;
  }
  const server = (tls ? createHttpsServer(tls, listener) : createServer(listener)) as Server;
  proxy.attach(server);
  const url = await listen(server);
  return {
    url,
    server,
    proxy,
    async close() {
      await proxy.close();
      await closeServer(server);
    },
  };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json(): unknown;
}

/** An HTTP request with nothing added by a client library: headers exactly as given. */
export function send(
  url: string,
  options: { method?: string; headers?: Record<string, string | string[]>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) as unknown });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * Writes raw bytes to a server and returns what it answered before closing (or after `waitMs`):
 * for requests no HTTP client would send.
 */
export function sendRaw(url: string, raw: string, waitMs = 2_000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      if (chunks.length > 0) resolve(Buffer.concat(chunks).toString('latin1'));
      else reject(error);
    });
    socket.write(raw);
  });
}

/** Status code and JSON body of a raw HTTP/1.1 response. */
export function parseRaw(raw: string): { status: number; body: unknown } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
  const bodyText = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    body = bodyText;
  }
  return { status, body };
}
