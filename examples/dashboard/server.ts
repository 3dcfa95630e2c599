/**
 * The example dashboard: an Express app that proxies the Kubernetes API of several clusters under
 * /clusters, HTTP and WebSocket alike (`npm start`; `npm start -- --help` lists the options:
 * PORT, HOST, TLS_PORT, --kubeconfig). See ./README.md.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClusterProxy } from 'kube-cluster-proxy';
import { createCertificateAuthority } from 'kube-cluster-proxy/testing';
import { dashboardApp } from './app.ts';
import { banner, HELP } from './banner.ts';
import { dashboardClusters } from './clusters.ts';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(HELP);
  process.exit(0);
}

/** A port from the environment, or one line saying what is wrong with it. */
function portFrom(variable: string, fallback: number): number {
  const text = process.env[variable];
  const port = text === undefined || text === '' ? fallback : Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`${variable} must be a port number from 0 to 65535; got ${JSON.stringify(text)}.`);
    process.exit(1);
  }
  return port;
}
const port = portFrom('PORT', 8080);
const tlsPort = portFrom('TLS_PORT', 8443);
const host = process.env.HOST || '127.0.0.1';

const flag = process.argv.indexOf('--kubeconfig');
const source = await dashboardClusters(flag > 0 ? process.argv[flag + 1] : undefined);

const proxy = createClusterProxy({
  mountPath: '/clusters',
  clusters: source.clusters,
  on: {
    proxyRes: (e) => console.log(`${e.method} ${e.cluster}${e.path} -> ${e.statusCode} as ${e.identity.kind} (${e.identity.source}) in ${e.durationMs} ms`),
    upgrade: (e) => console.log(`upgrade ${e.phase} ${e.cluster}${e.path} as ${e.identity.kind} (${e.identity.source})`),
    error: (e) => console.log(`error ${e.error.code} ${e.cluster ?? '-'}: ${e.error.message}`),
  },
});

const app = dashboardApp(proxy, source.loginHints);
const server = createServer(app);
proxy.attach(server);

// kubectl (client-go) sends bearer tokens only over TLS, so the dashboard also listens on HTTPS
// with a certificate from a throw-away CA, written where kubectl can read it.
const ca = createCertificateAuthority({ commonName: 'kube-cluster-proxy example dashboard CA' });
const caFile = join(tmpdir(), `kube-cluster-proxy-dashboard-ca-${process.pid}.crt`);
writeFileSync(caFile, ca.cert);
const tlsServer = createHttpsServer(
  ca.issue({ commonName: host, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'], usage: 'server' }),
  app,
);
proxy.attach(tlsServer);

let stopping: Promise<void> | undefined;
/** Stops everything this process started and removes its temporary file; safe to call twice. */
function stop(): Promise<void> {
  stopping ??= (async () => {
    rmSync(caFile, { force: true });
    // A rollout: new requests get 503 (a load balancer tries another replica), watches end spread
    // over the first half of the grace so that browsers re-watch elsewhere, then the rest closes.
    await proxy.drain({ graceMs: Number(process.env.DRAIN_MS ?? 3_000) });
    for (const s of [server, tlsServer]) {
      s.closeAllConnections();
      s.close();
    }
    await source.close();
  })();
  return stopping;
}

async function exitAfterStop(code: number): Promise<never> {
  // A stuck close must not keep a stopped dashboard alive: give it a few seconds, then leave.
  setTimeout(() => process.exit(code), Number(process.env.DRAIN_MS ?? 3_000) + 5_000).unref();
  await stop().catch((error: unknown) => console.error(`while stopping: ${String(error)}`));
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => void exitAfterStop(0));
// `npm start` runs the server under a shell; npm forwards SIGTERM to that shell, which dies
// without passing it on (and `kill -9` of npm reaches nobody). An orphan notices its new parent.
const parent = process.ppid;
setInterval(() => process.ppid !== parent && void exitAfterStop(0), 500).unref();

function listen(s: Server, variable: string, wanted: number): Promise<void> {
  return new Promise((resolve) => {
    s.once('error', (error: NodeJS.ErrnoException) => {
      const why =
        error.code === 'EADDRINUSE'
          ? `port ${wanted} on ${host} is already in use; set ${variable} to a free port (e.g. ${variable}=${wanted + 1}, or ${variable}=0 for any).`
          : error.code === 'EACCES'
            ? `port ${wanted} on ${host} needs privileges; set ${variable} to a port above 1023.`
            : error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND'
              ? `${host} is not an address of this machine; set HOST to one (e.g. HOST=127.0.0.1).`
              : `cannot listen on ${host}:${wanted} (${error.code ?? error.message}); check ${variable} and HOST.`;
      console.error(`kube-cluster-proxy example dashboard: ${why}`);
      void exitAfterStop(1);
    });
    s.listen(wanted, host, resolve);
  });
}

await Promise.all([listen(server, 'PORT', port), listen(tlsServer, 'TLS_PORT', tlsPort)]);
const names = source.kubeconfigPaths ? (await proxy.listClusters()).map((c) => c.name) : [];
console.log(
  banner({
    base: `http://${host}:${(server.address() as AddressInfo).port}`,
    tlsBase: `https://${host}:${(tlsServer.address() as AddressInfo).port}`,
    caFile,
    kubeconfig: source.kubeconfigPaths ? { paths: source.kubeconfigPaths, names } : undefined,
  }),
);
