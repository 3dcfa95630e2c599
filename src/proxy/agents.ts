import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { ValidatedCluster } from '../clusters/cluster-config.ts';

/**
 * A keep-alive agent with the cluster's TLS settings. One is made per cluster and identity kind
 * (with or without the cluster's client certificate), once, never per request: TLS sessions and
 * connections are reused across requests.
 */
export function createClusterAgent(cluster: ValidatedCluster, withClientCertificate: boolean): HttpAgent {
  const common = { keepAlive: true, scheduling: 'lifo' as const };
  if (cluster.server.protocol === 'http:') return new HttpAgent(common);
  const credentials = cluster.credentials;
  const certificate =
    withClientCertificate && credentials && 'clientCertificate' in credentials
      ? { cert: credentials.clientCertificate, key: credentials.clientKey }
      : {};
  return new HttpsAgent({
    ...common,
    ...certificate,
    ...(cluster.ca === undefined ? {} : { ca: cluster.ca }),
    ...(cluster.tlsServerName === undefined ? {} : { servername: cluster.tlsServerName }),
    rejectUnauthorized: !cluster.insecureSkipTLSVerify,
  });
}
