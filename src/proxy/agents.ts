import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { ValidatedCluster } from '../clusters/cluster-config.ts';
import type { ClientCertificate } from '../credentials/cluster-credentials.ts';

/**
 * A keep-alive agent with the cluster's TLS settings, presenting `certificate` when given. One is
 * made per cluster and identity (the user's, or the cluster's certificate), never per request:
 * TLS sessions and connections are reused across requests.
 */
export function createClusterAgent(cluster: ValidatedCluster, certificate: ClientCertificate | undefined): HttpAgent {
  const common = { keepAlive: true, scheduling: 'lifo' as const };
  if (cluster.server.protocol === 'http:') return new HttpAgent(common);
  return new HttpsAgent({
    ...common,
    ...(certificate ?? {}),
    ...(cluster.ca === undefined ? {} : { ca: cluster.ca }),
    ...(cluster.tlsServerName === undefined ? {} : { servername: cluster.tlsServerName }),
    rejectUnauthorized: !cluster.insecureSkipTLSVerify,
  });
}
