/**
 * The proxies under test, in a process of their own (the load generator and the fake cluster have
 * theirs): bare http-proxy-middleware with a fixed target, and createClusterProxy in 'cluster'
 * mode over TLS. Reads the fake cluster from BENCH_FAKE (JSON); prints the addresses as one line.
 */
import { createServer } from 'node:http';
import { Agent } from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { createClusterProxy } from 'kube-cluster-proxy';

const fake = JSON.parse(process.env.BENCH_FAKE ?? '{}') as { url: string; ca: string; token: string };
const TOKEN = fake.token;

async function serve(app: express.Express, attach?: (server: ReturnType<typeof createServer>) => void): Promise<string> {
  const server = createServer(app);
  attach?.(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Bare http-proxy-middleware with a fixed target; `eject` drops its default plugins (logging, error pages). */
async function bareHpm(eject: boolean): Promise<string> {
  const app = express();
  const middleware = createProxyMiddleware({
    target: fake.url,
    changeOrigin: true,
    agent: new Agent({ keepAlive: true, ca: fake.ca }),
    headers: { authorization: `Bearer ${TOKEN}` },
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
const bare = await bareHpm(false);
const bareEjected = await bareHpm(true);

const ours = express();
const proxy = createClusterProxy({
  clusters: [{ name: 'bench', server: fake.url, ca: fake.ca, credentials: { token: TOKEN } }],
});
ours.use('/clusters', proxy);
const oursUrl = await serve(ours, (server) => proxy.attach(server));

// CPU time of this process, for the cost per request of each proxy: on 2 shared cores a steadier
// figure than requests per second.
const meter = createServer((_req, res) => res.end(JSON.stringify(process.cpuUsage())));
await new Promise<void>((resolve) => meter.listen(0, '127.0.0.1', resolve));
const cpu = `http://127.0.0.1:${(meter.address() as AddressInfo).port}/`;

console.log(JSON.stringify({ bare, bareEjected, ours: `${oursUrl}/clusters/bench`, cpu }));
process.on('SIGTERM', () => process.exit(0));
