import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { ValidatedCluster } from '../clusters/cluster-config.ts';
import type { ClientCertificate } from '../credentials/cluster-credentials.ts';

/**
 * A keep-alive node:http agent with the cluster's TLS settings, presenting `certificate` when
 * given: for upgrades (and the http-proxy-middleware engine). One is made per cluster and identity
 * route, never per request, so that TLS sessions and connections are reused.
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

/** Closes an agent's idle keep-alive sockets; requests in flight finish. */
export function closeIdleSockets(agent: HttpAgent): void {
  for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
}
