/** What `npm start` prints: `--help`, and once listening, the URLs and commands to try. */
import { PROD_USER_TOKEN } from './clusters.ts';

export const HELP = `kube-cluster-proxy example dashboard

Usage: npm start [-- --kubeconfig <file>] [-- --help]

  --kubeconfig <file>  serve every context of <file> as a cluster (KUBECONFIG is read too);
                       without either, two simulated clusters start: dev and prod.

Environment:
  PORT      HTTP port of the dashboard (default 8080; 0 picks a free one)
  HOST      address to listen on (default 127.0.0.1; loopback keeps it private)
  TLS_PORT  HTTPS port, for kubectl, which sends tokens only over TLS (default 8443; 0 picks a free one)

Stop it with Ctrl-C (or SIGTERM); it removes its temporary CA file on the way out.
`;

export interface BannerFacts {
  readonly base: string;
  readonly tlsBase: string;
  readonly caFile: string;
  /** The kubeconfig files and the clusters found in them; `undefined` for the simulated clusters. */
  readonly kubeconfig: { paths: string[]; names: string[] } | undefined;
}

export function banner({ base, tlsBase, caFile, kubeconfig }: BannerFacts): string {
  const kubectl = `kubectl --certificate-authority ${caFile} --server ${tlsBase}/clusters`;
  const head = `
kube-cluster-proxy example dashboard: ${base}/  (and ${tlsBase}/, CA in ${caFile})`;
  if (kubeconfig) {
    const first = kubeconfig.names[0] ?? '<cluster>';
    return `${head}
Clusters: from kubeconfig ${kubeconfig.paths.join(', ')}: ${kubeconfig.names.join(', ') || '(none usable; see the errors above)'}

Try:
  curl ${base}/clusters/${first}/version
  ${kubectl}/${first} --token <your token, if the context has no credentials> get pods
`;
  }
  const pod = 'web-prod-1';
  const subprotocol = `'base64url.bearer.authorization.k8s.io.'+Buffer.from('${PROD_USER_TOKEN}').toString('base64url')`;
  return `${head}
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
  node -e "const W=require('ws');const w=new W('${base.replace('http', 'ws')}/clusters/prod/api/v1/namespaces/default/pods/${pod}/exec?command=echo&command=hello&stdout=true',[${subprotocol},'v4.channel.k8s.io']);w.on('message',m=>process.stdout.write(m.subarray(1)));w.on('close',()=>console.log())"
`;
}
