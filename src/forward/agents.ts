import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { RouteTls } from './route-tls.ts';

/**
 * A keep-alive node:http agent with the route's TLS settings (`undefined`: plain HTTP): for
 * upgrades, the proxy's own requests and the http-proxy-middleware engine. One is made per cluster
 * and identity route, never per request, so that TLS sessions and connections are reused.
 */
export function createClusterAgent(tls: RouteTls | undefined): HttpAgent {
  const common = { keepAlive: true, scheduling: 'lifo' as const };
  if (tls === undefined) return new HttpAgent(common);
  return new HttpsAgent({
    ...common,
    secureContext: tls.secureContext,
    ...(tls.servername === undefined ? {} : { servername: tls.servername }),
    rejectUnauthorized: tls.rejectUnauthorized,
  });
}

/** Closes an agent's idle keep-alive sockets; requests in flight finish. */
export function closeIdleSockets(agent: HttpAgent): void {
  for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
}
