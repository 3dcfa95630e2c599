/**
 * The example dashboard: an Express app that proxies the Kubernetes API of several clusters under
 * /clusters, HTTP and WebSocket alike. With a kubeconfig (`npm start -- --kubeconfig <file>`, or
 * `KUBECONFIG` set) every context becomes a cluster. Without one it starts two simulated clusters
 * from `kube-cluster-proxy/testing`:
 * - `dev`  in authMode 'cluster': the proxy uses the cluster's own token; users need none.
 * - `prod` in authMode 'user': every request must carry the user's token (header, WebSocket
 *   subprotocol, or the cookie the page sets at "log in").
 *
 * Run it with `npm start`; PORT (default 8080) and HOST (default 127.0.0.1) move it.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { createClusterProxy, defaultKubeconfigPaths, kubeconfigClusters, type ClusterConfig, type ClusterResolver } from 'kube-cluster-proxy';
import { createCertificateAuthority, startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';

const port = Number(process.env.PORT ?? 8080);
const tlsPort = Number(process.env.TLS_PORT ?? 8443);
// PORT=0 picks free ports (the printed URLs show them), as the dashboard's own test does.
const host = process.env.HOST ?? '127.0.0.1';

const DEV_SERVICE_TOKEN = 'dev-dashboard-token';
const PROD_USER_TOKEN = 'alice-token';

const flag = process.argv.indexOf('--kubeconfig');
const kubeconfigPaths = flag > 0 && process.argv[flag + 1] ? [process.argv[flag + 1]!] : process.env.KUBECONFIG ? defaultKubeconfigPaths() : undefined;

let clusters: ClusterConfig[] | ClusterResolver;
const simulated: FakeCluster[] = [];
if (kubeconfigPaths) {
  clusters = kubeconfigClusters({ paths: kubeconfigPaths });
} else {
  const dev = await startFakeCluster({ name: 'dev', tokens: { [DEV_SERVICE_TOKEN]: 'system:serviceaccount:kube-system:dashboard' } });
  const prod = await startFakeCluster({ name: 'prod', tokens: { [PROD_USER_TOKEN]: 'alice' } });
  simulated.push(dev, prod);
  clusters = [
    { name: 'dev', server: dev.url, ca: dev.ca, credentials: { token: DEV_SERVICE_TOKEN } },
    { name: 'prod', server: prod.url, ca: prod.ca },
  ];
}

const proxy = createClusterProxy({
  mountPath: '/clusters',
  clusters,
  on: {
    proxyRes: (e) => console.log(`${e.method} ${e.cluster}${e.path} -> ${e.statusCode} as ${e.identity.kind} (${e.identity.source}) in ${e.durationMs} ms`),
    upgrade: (e) => console.log(`upgrade ${e.phase} ${e.cluster}${e.path} as ${e.identity.kind} (${e.identity.source})`),
    error: (e) => console.log(`error ${e.error.code} ${e.cluster ?? '-'}: ${e.error.message}`),
  },
});

const app = express();
app.disable('x-powered-by');
// The proxy comes before any body parser: it streams request bodies to the cluster untouched.
app.use('/clusters', proxy);

app.get('/api/clusters', async (_req, res) => {
  const list = await proxy.listClusters();
  res.json(
    list.map((c) => ({ name: c.name, authMode: c.authMode, needsUserToken: c.needsUserToken, namespace: c.namespace ?? 'default' })),
  );
});
app.post('/api/login/:cluster', express.json(), (req, res) => {
  const token = (req.body as { token?: unknown } | undefined)?.token;
  if (typeof token !== 'string' || token === '') {
    res.status(400).json({ error: 'send {"token": "..."}' });
    return;
  }
  proxy.setTokenCookie(res, req.params.cluster, token);
  res.status(204).end();
});
app.post('/api/logout/:cluster', (req, res) => {
  proxy.clearTokenCookie(res, req.params.cluster);
  res.status(204).end();
});
app.use(express.static(fileURLToPath(new URL('./public', import.meta.url))));

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

await Promise.all([
  new Promise<void>((resolve) => server.listen(port, host, resolve)),
  new Promise<void>((resolve) => tlsServer.listen(tlsPort, host, resolve)),
]);
{
  const base = `http://${host}:${(server.address() as AddressInfo).port}`;
  const tlsBase = `https://${host}:${(tlsServer.address() as AddressInfo).port}`;
  const kubectl = `kubectl --certificate-authority ${caFile} --server ${tlsBase}/clusters`;
  const pod = 'web-prod-1';
  if (kubeconfigPaths) {
    const names = (await proxy.listClusters()).map((c) => c.name);
    const first = names[0] ?? '<cluster>';
    console.log(`
kube-cluster-proxy example dashboard: ${base}/  (and ${tlsBase}/, CA in ${caFile})
Clusters: from kubeconfig ${kubeconfigPaths.join(', ')}: ${names.join(', ') || '(none usable; see the errors above)'}

Try:
  curl ${base}/clusters/${first}/version
  ${kubectl}/${first} --token <your token, if the context has no credentials> get pods
`);
  } else console.log(`
kube-cluster-proxy example dashboard: ${base}/  (and ${tlsBase}/, CA in ${caFile})
Clusters: simulated (no kubeconfig given): dev (authMode 'cluster'), prod (authMode 'user', token ${PROD_USER_TOKEN})

Try:
  curl ${base}/clusters/dev/api/v1/namespaces/default/pods
  curl -H 'Authorization: Bearer ${PROD_USER_TOKEN}' ${base}/clusters/prod/api/v1/namespaces/default/pods
  curl ${base}/clusters/prod/version          # 401 Status: prod needs the user's token
  curl ${base}/clusters/nope/version          # 404 Status: unknown cluster
  ${kubectl}/dev --token unused get pods        # the proxy replaces the token with dev's own
  ${kubectl}/prod --token ${PROD_USER_TOKEN} exec ${pod} -- echo hello   # WebSocket exec
  ${kubectl}/prod --token ${PROD_USER_TOKEN} logs -f ${pod}

WebSocket exec with the token in the subprotocol, as a browser does:
  node -e "const W=require('ws');const t=Buffer.from('${PROD_USER_TOKEN}').toString('base64url');const w=new W('${base.replace('http', 'ws')}/clusters/prod/api/v1/namespaces/default/pods/${pod}/exec?command=echo&command=hello&stdout=true',['base64url.bearer.authorization.k8s.io.'+t,'v4.channel.k8s.io']);w.on('message',m=>process.stdout.write(m.subarray(1)));w.on('close',()=>console.log())"
`);
}

async function shutdown(): Promise<void> {
  rmSync(caFile, { force: true });
  await proxy.close();
  for (const s of [server, tlsServer]) {
    s.closeAllConnections();
    s.close();
  }
  await Promise.all(simulated.map((fake) => fake.close()));
}
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
