import type { Agent, IncomingMessage, ServerResponse } from 'node:http';
import { validateClusterConfig, type ClusterConfig, type ValidatedCluster } from './clusters/cluster-config.ts';
import type { ClusterResolver } from './clusters/cluster-resolver.ts';
import {
  createCredentialSource,
  type ClientCertificate,
  type CredentialDependencies,
  type CredentialSource,
} from './credentials/cluster-credentials.ts';
import { createUserTokenVerifier, type UserTokenVerifier } from './credentials/user-token-verifier.ts';
import { ClusterMisconfiguredError, ClusterNotFoundError, ClusterProxyError, InternalProxyError } from './errors.ts';
import type { Exchange } from './exchange.ts';
import type { Logger } from './options.ts';
import { createClusterAgent } from './proxy/agents.ts';
import { createHttpForwarder, type ForwardObserver } from './proxy/forward-http.ts';

/** The connection state of one cluster for one identity kind: an agent and its HTTP forwarder. */
export interface Route {
  readonly agent: Agent;
  readonly forwardHttp: (req: IncomingMessage, res: ServerResponse, exchange: Exchange) => void;
}

/** Everything the proxy keeps for one cluster: made once per configuration, reused by every request. */
export interface Upstream {
  readonly cluster: ValidatedCluster;
  readonly credentials: CredentialSource | undefined;
  /** Verifies user tokens, for `authMode: 'impersonate'`. */
  readonly verifier: UserTokenVerifier | undefined;
  /** The route for requests carrying the user's identity (never the cluster's client certificate). */
  readonly user: Route;
  /**
   * The route for requests carrying the cluster's own identity: the user route when no client
   * certificate is involved, else one whose agent presents `certificate`.
   */
  own(certificate: ClientCertificate | undefined): Route;
  /** Every agent made so far, for shutdown. */
  agents(): Agent[];
}

/** What the registry needs from the proxy. */
export interface UpstreamDependencies extends CredentialDependencies {
  logger: Logger;
  observer: ForwardObserver;
}

function sameConfig(a: ClusterConfig, b: ClusterConfig): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof ClusterConfig>;
  for (const key of keys) {
    const x = a[key];
    const y = b[key];
    if (key === 'credentials' && typeof x === 'object' && typeof y === 'object') {
      const cx = x as unknown as Record<string, unknown>;
      const cy = y as unknown as Record<string, unknown>;
      const credentialKeys = new Set([...Object.keys(cx), ...Object.keys(cy)]);
      if ([...credentialKeys].some((k) => !sameValue(cx[k], cy[k]))) return false;
    } else if (!sameValue(x, y)) {
      return false;
    }
  }
  return true;
}

function sameValue(x: unknown, y: unknown): boolean {
  if (Buffer.isBuffer(x) && Buffer.isBuffer(y)) return x.equals(y);
  return x === y;
}

/**
 * Resolves cluster names to {@link Upstream}s, keeping one per cluster while its configuration is
 * unchanged: a resolver may return a fresh object on every call (a reloaded kubeconfig) without
 * causing new agents per request.
 */
export function createUpstreamRegistry(resolver: ClusterResolver, deps: UpstreamDependencies) {
  const upstreams = new Map<string, { config: ClusterConfig; upstream: Upstream }>();
  const warnedInsecure = new Set<string>();

  function build(config: ClusterConfig): Upstream {
    let cluster: ValidatedCluster;
    try {
      cluster = validateClusterConfig(config, `cluster "${String(config?.name)}"`);
    } catch (error) {
      throw new ClusterMisconfiguredError(String(config?.name), (error as Error).message, { cause: error });
    }
    if (cluster.insecureSkipTLSVerify && !warnedInsecure.has(cluster.name)) {
      warnedInsecure.add(cluster.name);
      deps.logger.warn(
        `kube-cluster-proxy: cluster "${cluster.name}" has insecureSkipTLSVerify: its server certificate is not verified`,
      );
    }
    const makeRoute = (certificate: ClientCertificate | undefined): Route => {
      const agent = createClusterAgent(cluster, certificate);
      return { agent, forwardHttp: createHttpForwarder(cluster, agent, deps.observer) };
    };
    const user = makeRoute(undefined);
    // Certificates rotate (exec plugins): the current one and the one before, whose requests may
    // still be in flight, keep their agents.
    let certificateRoutes: { certificate: ClientCertificate; route: Route }[] = [];
    return {
      cluster,
      credentials: createCredentialSource(cluster, deps),
      verifier: cluster.impersonation ? createUserTokenVerifier(cluster, cluster.impersonation) : undefined,
      user,
      own(certificate) {
        if (!certificate) return user;
        const known = certificateRoutes.find((r) => sameValue(r.certificate.cert, certificate.cert) && sameValue(r.certificate.key, certificate.key));
        if (known) return known.route;
        const route = makeRoute(certificate);
        if (certificateRoutes.length === 2) closeIdleSockets(certificateRoutes[0]!.route.agent);
        certificateRoutes = [...certificateRoutes.slice(-1), { certificate, route }];
        return route;
      },
      agents: () => [user.agent, ...certificateRoutes.map((r) => r.route.agent)],
    };
  }

  function closeIdleSockets(agent: Agent): void {
    for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
  }

  /** Idle keep-alive sockets of a replaced upstream are closed; requests in flight finish. */
  function retire(upstream: Upstream): void {
    for (const agent of upstream.agents()) closeIdleSockets(agent);
  }

  return {
    /**
     * The upstream for a cluster name.
     * @throws {ClusterNotFoundError} when the resolver knows no such cluster.
     * @throws {ClusterMisconfiguredError} when its configuration is invalid.
     */
    async get(name: string): Promise<Upstream> {
      let config: ClusterConfig | undefined;
      try {
        config = await resolver.resolve(name);
      } catch (error) {
        if (error instanceof ClusterProxyError) throw error;
        deps.logger.error(`kube-cluster-proxy: the cluster resolver failed for "${name}":`, error);
        throw new InternalProxyError({ cluster: name, cause: error });
      }
      const known = upstreams.get(name);
      if (config === undefined || config === null) {
        if (known) {
          retire(known.upstream);
          upstreams.delete(name);
        }
        throw new ClusterNotFoundError(name);
      }
      if (config.name !== name) {
        throw new ClusterMisconfiguredError(name, `the resolver returned a cluster named "${String(config.name)}"`);
      }
      if (known && (known.config === config || sameConfig(known.config, config))) {
        known.config = config;
        return known.upstream;
      }
      const upstream = build(config);
      if (known) retire(known.upstream);
      upstreams.set(name, { config, upstream });
      return upstream;
    },
    /** Destroys every agent and its sockets (upgraded sockets are not the agents' and stay). */
    close(): void {
      for (const { upstream } of upstreams.values()) for (const agent of upstream.agents()) agent.destroy();
      upstreams.clear();
    },
  };
}

export type UpstreamRegistry = ReturnType<typeof createUpstreamRegistry>;
