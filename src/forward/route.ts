import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ValidatedCluster } from '../clusters/cluster-config.ts';
import type { ClientCertificate } from '../credentials/cluster-credentials.ts';
import type { Exchange } from '../pipeline/exchange.ts';
import { closeIdleSockets, createClusterAgent } from './agents.ts';
import type { Deadlines } from './deadlines.ts';
import type { ForwardEngine } from './http-forwarder.ts';
import { createHttpProxyMiddlewareForwarder } from './http-proxy-middleware.ts';
import { createUndiciForwarder } from './http-undici.ts';
import type { ForwardObserver } from './observer.ts';
import { createRouteTls } from './route-tls.ts';
import { createUpgradeForwarder } from './upgrade.ts';
import { createUpstreamRequester, type RequestUpstream } from './upstream-request.ts';

/**
 * The way to one cluster for one identity (the user's, or the cluster's own with its client
 * certificate): an HTTP forwarder and an upgrade pipe side by side, made once and reused by every
 * request, reporting through one observer and timed by one deadline mechanism.
 */
export interface Route {
  /** Forwards a prepared HTTP request. */
  http(req: IncomingMessage, res: ServerResponse, exchange: Exchange): void;
  /** Forwards a prepared upgrade. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, exchange: Exchange): void;
  /** Sends a request of the proxy's own (a shared watch, a cache fill) over this route's connections. */
  request: RequestUpstream;
  /** Closes idle connections and lets requests in flight finish (a replaced configuration). */
  retire(): void;
  /** Destroys every connection the route holds (upgraded sockets are not its own and stay). */
  close(): Promise<void>;
}

/** What every route of a proxy shares. */
export interface RouteDependencies {
  engine: ForwardEngine;
  observer: ForwardObserver;
  deadlines: Deadlines;
}

/**
 * The route of `certificate` (the cluster's own identity) or of none (the user's identity).
 * @throws {CredentialsUnavailableError} for a certificate or key OpenSSL refuses.
 */
export function createRoute(cluster: ValidatedCluster, certificate: ClientCertificate | undefined, deps: RouteDependencies): Route {
  // One secure context for the route, whichever client opens its connections.
  const tls = createRouteTls(cluster, certificate);
  const create = deps.engine === 'undici' ? createUndiciForwarder : createHttpProxyMiddlewareForwarder;
  const http = create(cluster, tls, deps.observer, deps.deadlines);
  const upgradeAgent = createClusterAgent(tls);
  const upgrade = createUpgradeForwarder(cluster, upgradeAgent, deps.observer, deps.deadlines);
  return {
    http: (req, res, exchange) => http.forward(req, res, exchange),
    upgrade,
    request: createUpstreamRequester(cluster, upgradeAgent, deps.deadlines),
    retire() {
      http.retire();
      closeIdleSockets(upgradeAgent);
    },
    async close() {
      upgradeAgent.destroy();
      await http.close();
    },
  };
}
