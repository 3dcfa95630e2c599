import { Agent as HttpAgent, type ClientRequestArgs } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect, type ConnectionOptions } from 'node:tls';
import type { RouteTls } from './route-tls.ts';

/**
 * An https agent that resumes TLS sessions itself. node:https's own session cache listens on each
 * socket with closures that hold the request the socket was made for, its response and whatever
 * their listeners hold, for as long as the socket lives: an upgraded socket lives for hours, and
 * thousands of idle terminals and watches would each keep ~3 KiB of heap for nothing. One route talks to
 * one server, so the latest session is all there is to keep.
 */
class RouteAgent extends HttpsAgent {
  #session: Buffer | undefined;

  override createConnection(options: ClientRequestArgs): Duplex {
    const socket = connect({ ...(options as ConnectionOptions), ...(this.#session ? { session: this.#session } : {}) });
    socket.on('session', (session: Buffer) => {
      this.#session = session;
    });
    return socket;
  }
}

/**
 * A keep-alive node:http agent with the route's TLS settings (`undefined`: plain HTTP): for
 * upgrades, the proxy's own requests and the http-proxy-middleware engine. One is made per cluster
 * and identity route, never per request, so that TLS sessions and connections are reused.
 */
export function createClusterAgent(tls: RouteTls | undefined): HttpAgent {
  const common = { keepAlive: true, scheduling: 'lifo' as const };
  if (tls === undefined) return new HttpAgent(common);
  return new RouteAgent({
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
