/**
 * One proxy under test, in a process of its own (the load generator, the upstreams and every other
 * proxy have theirs), chosen by BENCH_SETUP:
 * - `bare`: bare http-proxy-middleware v4 with a fixed target and a static Authorization header;
 * - `bare-ejected`: the same without its default plugins (logging, error pages), its fastest form;
 * - `floor`: a minimal forwarder on one undici Pool (no routing, no checks, no hooks): what the engine
 *   alone costs, the floor under createClusterProxy's undici engine;
 * - `<engine>-cluster`: createClusterProxy with that engine, authMode 'cluster' (its own token);
 * - `<engine>-user`: the same in authMode 'user' (the client's token, in the Authorization header);
 * - `undici-cluster-http2`: `undici-cluster` reaching the fake over HTTP/2 (`http2: true`);
 * - `<engine>-cluster-observed`: `<engine>-cluster` with metrics, audit and policy on (bench/observed.ts);
 *   `<engine>-cluster-observed:metrics,audit` with only those.
 * Reads the upstreams from BENCH_FAKE (JSON) and createClusterProxy's `share` option from BENCH_SHARE
 * (JSON, default none); prints `{ "url": ... }` as one line when listening.
 */
import { createServer } from 'node:http';
import { Agent } from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { Pool } from 'undici';
import { createClusterProxy, type ClusterProxyOptions } from 'kube-cluster-proxy';
import { observed } from './observed.ts';

const fake = JSON.parse(process.env.BENCH_FAKE ?? '{}') as { url: string; ca: string; token: string; firehose: string };
const setup = process.env.BENCH_SETUP ?? '';
const share = process.env.BENCH_SHARE ? (JSON.parse(process.env.BENCH_SHARE) as ClusterProxyOptions['share']) : undefined;

async function serve(app: express.Express, attach: (server: ReturnType<typeof createServer>) => void): Promise<string> {
  const server = createServer(app);
  attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', 511, resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function bareHpm(eject: boolean): Promise<string> {
  const app = express();
  const middleware = createProxyMiddleware({
    target: fake.url,
    changeOrigin: true,
    agent: new Agent({ keepAlive: true, ca: fake.ca }),
    headers: { authorization: `Bearer ${fake.token}` },
    ...(eject ? { ejectPlugins: true, plugins: [(server) => server.on('error', () => {})] } : {}),
  });
  app.use('/hpm', middleware);
  const url = await serve(app, (server) =>
    server.on('upgrade', (req, socket, head) => {
      req.url = req.url?.replace(/^\/hpm/, '');
      middleware.upgrade(req, socket as never, head);
    }),
  );
  return `${url}/hpm`;
}

/** The reference point: a bare undici forwarder, hop-by-hop headers dropped, nothing else. */
async function floor(): Promise<string> {
  const pool = new Pool(fake.url, { connect: { ca: fake.ca }, headersTimeout: 0, bodyTimeout: 0 });
  const hop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host']);
  const server = createServer((req, res) => {
    const headers: Record<string, string | string[]> = { authorization: `Bearer ${fake.token}` };
    for (const [name, value] of Object.entries(req.headers)) if (!hop.has(name) && value !== undefined) headers[name] = value;
    pool.dispatch(
      { path: req.url!.slice('/floor'.length), method: req.method!, headers, body: req.method === 'GET' ? null : req },
      {
        onRequestStart() {},
        onResponseStart(c, status, responseHeaders) {
          const { connection: _c, 'keep-alive': _k, 'transfer-encoding': _t, ...rest } = responseHeaders;
          res.writeHead(status, rest as never);
          res.on('drain', () => c.resume());
        },
        onResponseData(c, chunk) {
          if (!res.write(chunk)) c.pause();
        },
        onResponseEnd: () => res.end(),
        onResponseError: () => res.destroy(),
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', 511, resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/floor`;
}

async function ours(engine: NonNullable<ClusterProxyOptions['engine']>, mode: 'cluster' | 'user', http2: boolean, extra: Partial<ClusterProxyOptions>): Promise<string> {
  const credentials = mode === 'cluster' ? { credentials: { token: fake.token } } : {};
  const app = express();
  const proxy = createClusterProxy({
    engine,
    ...extra,
    ...(share ? { share } : {}),
    clusters: [
      { name: 'bench', server: fake.url, ca: fake.ca, ...(http2 ? { http2 } : {}), ...credentials },
      { name: 'firehose', server: fake.firehose, ...credentials },
    ],
  });
  app.use('/clusters', proxy);
  return `${await serve(app, (server) => proxy.attach(server))}/clusters/bench`;
}

const [, engine, mode, http2, watched, parts] = /^(.+?)-(cluster|user)(-http2)?(-observed(?::([a-z,]+))?)?$/.exec(setup) ?? [];
const url =
  setup === 'floor'
    ? await floor()
    : setup === 'bare' || setup === 'bare-ejected'
    ? await bareHpm(setup === 'bare-ejected')
    : await ours(engine as NonNullable<ClusterProxyOptions['engine']>, mode as 'cluster' | 'user', http2 !== undefined, watched ? observed(parts?.split(',')) : {});
console.log(JSON.stringify({ url }));
process.on('SIGTERM', () => process.exit(0));
// The runner asks for a full collection before it reads RSS: what a session keeps, not the garbage
// its handshake left (run with --expose-gc).
process.on('SIGUSR2', () => globalThis.gc?.());
