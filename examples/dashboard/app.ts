/**
 * The dashboard's Express app: the proxy under /clusters, a few JSON endpoints for the page
 * (cluster list, log-in, log-out), the page itself and xterm.js straight from node_modules.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import type { ClusterProxy } from 'kube-cluster-proxy';

/** The folder of an installed package, found the way Node resolves it; `main` is its entry point's path in it. */
function packageFolder(name: string, main: string): string {
  const file = fileURLToPath(import.meta.resolve(name));
  return join(dirname(file), ...main.split('/').slice(1).map(() => '..'));
}

/**
 * @param loginHints a sentence per cluster name shown next to its token form (the simulated
 *   clusters' demo token); none for clusters from a kubeconfig.
 */
export function dashboardApp(proxy: ClusterProxy, loginHints: Readonly<Record<string, string>> = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  // The proxy comes before any body parser: it streams request bodies to the cluster untouched.
  app.use('/clusters', proxy);

  app.get('/api/clusters', async (_req, res) => {
    // ClusterInfo holds no credential, so it can go to the browser as it is.
    res.json((await proxy.listClusters()).map((info) => ({ ...info, loginHint: loginHints[info.name] })));
  });
  // The only body the dashboard reads itself, so the only route with a parser.
  app.post('/api/login/:cluster', express.json({ limit: '64kb' }), (req, res) => {
    const token = (req.body as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string' || token.trim() === '') {
      res.status(400).json({ message: 'Enter a token before logging in.' });
      return;
    }
    proxy.setTokenCookie(res, req.params.cluster, token.trim());
    res.status(204).end();
  });
  app.post('/api/logout/:cluster', (req, res) => {
    proxy.clearTokenCookie(res, req.params.cluster);
    res.status(204).end();
  });
  // xterm.js is served from the installed packages: lib/ holds the ES module builds, css/ the style.
  app.use('/vendor/xterm', express.static(packageFolder('@xterm/xterm', 'lib/xterm.js')));
  app.use('/vendor/addon-fit', express.static(packageFolder('@xterm/addon-fit', 'lib/addon-fit.js')));
  app.use(express.static(fileURLToPath(new URL('./public', import.meta.url))));
  return app;
}
