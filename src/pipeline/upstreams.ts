import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { validateClusterConfig, type ClusterConfig, type ValidatedCluster } from '../clusters/cluster-config.ts';
import type { ClusterResolver } from '../clusters/cluster-resolver.ts';
import {
  createCredentialSource,
  type ClientCertificate,
  type CredentialDependencies,
  type CredentialSource,
} from '../credentials/cluster-credentials.ts';
import { createUserTokenVerifier, type UserTokenVerifier } from '../oidc/user-token-verifier.ts';
import { ClusterMisconfiguredError, ClusterProxyError, InternalProxyError } from '../errors.ts';
import { engineProblem } from '../forward/http-forwarder.ts';
import { createRoute, type Route, type RouteDependencies } from '../forward/route.ts';
import type { Logger } from '../hooks.ts';
import { createReviewCache } from '../identify/review-cache.ts';
import { createSelfSubjectReviewer, IDENTIFY_MAX_ENTRIES, IDENTIFY_TTL_MS, type SelfSubjectReviewer } from '../identify/self-subject-review.ts';
import { combinePolicies, type CompiledPolicy } from '../policy/validate-policy.ts';
import { clusterNotFound } from './route.ts';

/**
 * How a cluster is reached, by `authMode`: the shapes carry exactly the sources each mode needs,
 * so that the pipeline never assumes what validation established.
 */
export type ClusterAccess =
  | { readonly mode: 'user' }
  | { readonly mode: 'cluster' | 'user-then-cluster'; readonly credentials: CredentialSource }
  | { readonly mode: 'impersonate'; readonly credentials: CredentialSource; readonly verifier: UserTokenVerifier };

/** Everything the proxy keeps for one cluster: made once per configuration, reused by every request. */
export interface Upstream {
  readonly cluster: ValidatedCluster;
  readonly access: ClusterAccess;
  /** The proxy-wide policy and the cluster's, as one; `undefined` when neither is set. */
  readonly policy: CompiledPolicy | undefined;
  /** The route for requests carrying the user's identity (never the cluster's client certificate). */
  readonly user: Route;
  /**
   * The route for requests carrying the cluster's own identity: the user route when no client
   * certificate is involved, else one that presents `certificate`.
   */
  own(certificate: ClientCertificate | undefined): Route;
  /** Every route made so far. */
  routes(): Route[];
  /** Who a user token is, asked of the cluster (`identify: 'self-subject-review'`); `undefined` when the cluster is not asked. */
  readonly identify: SelfSubjectReviewer | undefined;
}

/** What the registry needs from the proxy. */
export interface UpstreamDependencies extends CredentialDependencies, RouteDependencies {
  logger: Logger;
  /** The proxy-wide `policy`. */
  policy: CompiledPolicy | undefined;
  /** The proxy's `mountPath`, for the path shown in a "cluster not found" answer. Default `'/clusters'`. */
  mountPath?: string;
}

function accessOf(cluster: ValidatedCluster, deps: CredentialDependencies): ClusterAccess {
  const credentials = createCredentialSource(cluster, deps);
  if (cluster.authMode === 'user' || !credentials) return { mode: 'user' };
  if (cluster.authMode === 'impersonate' && cluster.impersonation) {
    return { mode: 'impersonate', credentials, verifier: createUserTokenVerifier(cluster, cluster.impersonation) };
  }
  return { mode: cluster.authMode === 'user-then-cluster' ? 'user-then-cluster' : 'cluster', credentials };
}

const sameCertificate = (a: ClientCertificate, b: ClientCertificate) => isDeepStrictEqual(a.cert, b.cert) && isDeepStrictEqual(a.key, b.key);

/**
 * Resolves cluster names to {@link Upstream}s, keeping one per cluster while its configuration is
 * structurally unchanged: a resolver may return a fresh, equal object on every call (a reloaded
 * kubeconfig) without causing new connections, credential caches or exec-plugin runs.
 */
export function createUpstreamRegistry(resolver: ClusterResolver, deps: UpstreamDependencies) {
  const upstreams = new Map<string, { config: ClusterConfig; upstream: Upstream }>();
  const warnedInsecure = new Set<string>();
  // Review answers are kept under HMACs with this key: nothing kept is a token or a hash a client could compute.
  const reviewKey = randomBytes(32);

  function build(config: ClusterConfig): Upstream {
    let cluster: ValidatedCluster;
    try {
      cluster = validateClusterConfig(config, `cluster "${String(config?.name)}"`);
    } catch (error) {
      throw new ClusterMisconfiguredError(`cluster "${String(config?.name)}" is misconfigured: ${(error as Error).message}`, { cluster: String(config?.name), cause: error });
    }
    const problem = engineProblem(cluster, deps.engine);
    if (problem) throw new ClusterMisconfiguredError(`cluster "${cluster.name}" is misconfigured: ${problem}`, { cluster: cluster.name });
    if (cluster.insecureSkipTLSVerify && !warnedInsecure.has(cluster.name)) {
      warnedInsecure.add(cluster.name);
      deps.logger.warn(`kube-cluster-proxy: cluster "${cluster.name}" has insecureSkipTLSVerify: its server certificate is not verified`);
    }
    const user = createRoute(cluster, undefined, deps);
    // Certificates rotate (exec plugins): the current one and the one before, whose requests may
    // still be in flight, keep their routes.
    let certificateRoutes: { certificate: ClientCertificate; route: Route }[] = [];
    return {
      cluster,
      access: accessOf(cluster, deps),
      policy: combinePolicies(deps.policy, cluster.policy),
      user,
      own(certificate) {
        if (!certificate) return user;
        const known = certificateRoutes.find((r) => sameCertificate(r.certificate, certificate));
        if (known) return known.route;
        const route = createRoute(cluster, certificate, deps);
        if (certificateRoutes.length === 2) certificateRoutes[0]!.route.retire();
        certificateRoutes = [...certificateRoutes.slice(-1), { certificate, route }];
        return route;
      },
      routes: () => [user, ...certificateRoutes.map((r) => r.route)],
      identify:
        cluster.identify === 'self-subject-review'
          ? createSelfSubjectReviewer(cluster, user.request, createReviewCache({ ttlMs: IDENTIFY_TTL_MS, max: IDENTIFY_MAX_ENTRIES, key: reviewKey, now: deps.now }), deps.logger)
          : undefined,
    };
  }

  const retire = (upstream: Upstream) => upstream.routes().forEach((route) => route.retire());

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
        throw new InternalProxyError('internal error in the cluster proxy (the details are in its log)', { cluster: name, cause: error });
      }
      const known = upstreams.get(name);
      if (config === undefined || config === null) {
        if (known) {
          retire(known.upstream);
          upstreams.delete(name);
        }
        throw clusterNotFound(name, deps.mountPath);
      }
      if (config.name !== name) {
        throw new ClusterMisconfiguredError(`cluster "${name}" is misconfigured: the resolver returned a cluster named "${String(config.name)}"`, { cluster: name });
      }
      if (known && (known.config === config || isDeepStrictEqual(known.config, config))) {
        known.config = config;
        return known.upstream;
      }
      const upstream = build(config);
      if (known) retire(known.upstream);
      upstreams.set(name, { config, upstream });
      return upstream;
    },
    /** Destroys every route's connections (upgraded sockets are not theirs and stay). */
    async close(): Promise<void> {
      const all = [...upstreams.values()];
      upstreams.clear();
      await Promise.all(all.flatMap(({ upstream }) => upstream.routes().map((route) => route.close())));
    },
  };
}

export type UpstreamRegistry = ReturnType<typeof createUpstreamRegistry>;
