/**
 * Where the dashboard's clusters come from: a kubeconfig (`--kubeconfig <file>` or `KUBECONFIG`),
 * where every context becomes a cluster, or else two simulated clusters from
 * `kube-cluster-proxy/testing`:
 * - `dev`  in authMode 'cluster': the proxy uses the cluster's own token; users need none.
 * - `prod` in authMode 'user': every request must carry the user's token (header, WebSocket
 *   subprotocol, or the cookie the page sets at "log in").
 */
import { defaultKubeconfigPaths, kubeconfigClusters, type ClusterConfig, type ClusterResolver } from 'kube-cluster-proxy';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';

export const DEV_SERVICE_TOKEN = 'dev-dashboard-token';
export const PROD_USER_TOKEN = 'alice-token';

export interface DashboardClusters {
  readonly clusters: ClusterConfig[] | ClusterResolver;
  /** The kubeconfig files read, or `undefined` when the clusters are simulated. */
  readonly kubeconfigPaths: string[] | undefined;
  /** What the page may say next to a cluster's token form, by cluster name. */
  readonly loginHints: Record<string, string>;
  /** Stops the simulated clusters, if any. */
  close(): Promise<void>;
}

export async function dashboardClusters(kubeconfigFlag: string | undefined): Promise<DashboardClusters> {
  const kubeconfigPaths = kubeconfigFlag ? [kubeconfigFlag] : process.env.KUBECONFIG ? defaultKubeconfigPaths() : undefined;
  if (kubeconfigPaths) return { clusters: kubeconfigClusters({ paths: kubeconfigPaths }), kubeconfigPaths, loginHints: {}, close: async () => {} };
  const simulated: FakeCluster[] = [];
  const close = async () => {
    await Promise.all(simulated.map((fake) => fake.close()));
  };
  try {
    simulated.push(await startFakeCluster({ name: 'dev', tokens: { [DEV_SERVICE_TOKEN]: 'system:serviceaccount:kube-system:dashboard' } }));
    simulated.push(await startFakeCluster({ name: 'prod', tokens: { [PROD_USER_TOKEN]: 'alice' } }));
  } catch (error) {
    await close();
    throw error;
  }
  const [dev, prod] = simulated as [FakeCluster, FakeCluster];
  return {
    clusters: [
      { name: 'dev', server: dev.url, ca: dev.ca, credentials: { token: DEV_SERVICE_TOKEN } },
      { name: 'prod', server: prod.url, ca: prod.ca },
    ],
    kubeconfigPaths: undefined,
    loginHints: { prod: `This simulated cluster knows one user, alice, whose token is "${PROD_USER_TOKEN}".` },
    close,
  };
}
