import { isHttpToken, isTokenStore } from './checks.ts';
import type { ClusterConfig } from './clusters/cluster-config.ts';
import { isClusterResolver, type ClusterResolver } from './clusters/cluster-resolver.ts';
import { staticClusters } from './clusters/static-clusters.ts';
import { normalizeAllowedOrigins } from './credentials/origin.ts';
import { DEFAULT_TOKEN_COOKIE } from './credentials/token-cookie.ts';
import { InvalidOptionError } from './errors.ts';
import type { Policy } from './policy/policy.ts';
import { validatePolicy, type CompiledPolicy } from './policy/validate-policy.ts';
import { engineProblem, type ForwardEngine } from './forward/http-forwarder.ts';
import { createHookEmitter, type ClusterProxyHooks, type HookEmitter, type Logger } from './hooks.ts';
import { checkKnownOptions } from './known-options.ts';
import type { SessionTokenSource } from './sessions/session-token-source.ts';
import { resolveLimitOptions, type LimitOptions, type ResolvedLimits } from './limits/limit-options.ts';
import { resolveShareOptions, type ResolvedShare, type ShareOptions } from './share/share-options.ts';
import { memoryTokenStore } from './tokens/memory-token-store.ts';
import { resolveTracing } from './tracing/open-telemetry.ts';
import type { Tracing } from './tracing/request-trace.ts';
import type { TokenStore } from './tokens/token-store.ts';

/** Options of `createClusterProxy()`. */
export interface ClusterProxyOptions {
  /**
   * The path prefix the proxy serves: `<mountPath>/<cluster>/<api path>`. Mount the proxy there
   * (`app.use(mountPath, proxy)`); `attach()` takes the upgrades under it. Default `'/clusters'`.
   */
  mountPath?: string;
  /** The clusters: an array of configurations, or a resolver for dynamic ones. Required. */
  clusters: readonly ClusterConfig[] | ClusterResolver;
  /** Cache for credentials with an expiry. Default: `memoryTokenStore()` (one process). */
  tokenStore?: TokenStore;
  /** Name of the cookie that may carry a user's token (see `setClusterTokenCookie`). Default `'cluster-token'`. */
  tokenCookie?: string;
  /**
   * Origins, besides the proxy's own host, allowed to open cookie-authenticated WebSockets and to
   * send cookie-authenticated requests, e.g. `['https://dash.example.com']`. Default `[]`.
   */
  allowedOrigins?: readonly string[];
  /**
   * Milliseconds to wait for the cluster's response headers (or its `101` on an upgrade) before
   * answering `504`. Watches and followed logs have no deadline once their headers arrived.
   * Default `60_000`.
   */
  upstreamTimeoutMs?: number;
  /** @deprecated Since 0.2: use `upstreamTimeoutMs` (the same, in milliseconds). Removed in 0.3. */
  upstreamTimeout?: number;
  /**
   * The HTTP forwarder: `'undici'` (one connection pool per cluster and identity; about twice the
   * requests per second of the other, see BENCHMARKS.md) or `'http-proxy-middleware'` (node:http's
   * client through http-proxy-middleware). Upgrades take the same raw pipe with either.
   * Default `'undici'`.
   */
  engine?: ForwardEngine;
  /**
   * Browser login sessions (`oidcSessions()`): `'user'` and `'user-then-cluster'` clusters take the
   * session's token when a request carries no other, for HTTP and upgrades alike. Default: none.
   */
  sessions?: SessionTokenSource;
  /** Logging and auditing hooks: one set, or several (a metrics exporter, an audit sink, your own), called in order. */
  on?: ClusterProxyHooks | readonly ClusterProxyHooks[];
  /**
   * What the proxy lets through to every cluster (see `Policy`); a cluster's own `policy` applies
   * on top, and both must allow. Default: none (everything goes to the cluster, whose RBAC decides).
   */
  policy?: Policy;
  /**
   * OpenTelemetry tracing, on `@opentelemetry/api` (an optional peer dependency) and the tracer
   * provider and propagator the host's SDK registers: a span per request with children for its
   * steps, and the trace context sent to the cluster (`traceparent`), so that kube-apiserver joins
   * the trace. See docs/observability.md.
   * - `undefined` (the default): on when `@opentelemetry/api` is installed, else off at no cost;
   * - `true`: on; construction throws when the package is not installed;
   * - `false`: off: no span, and a client's `traceparent` goes to the cluster as it came.
   */
  tracing?: boolean;
  /**
   * What requests of one identity share upstream: identical watches one upstream watch, discovery
   * from a cache, identical concurrent reads one request (see `ShareOptions` and docs/sharing.md).
   * Default: nothing shared.
   */
  share?: ShareOptions;
  /**
   * How many requests and streams may be in flight per user and per cluster; over a limit, `429`
   * with `Retry-After` (see `LimitOptions` and docs/sharing.md). Default: no limit.
   */
  limits?: LimitOptions;
  /** Where warnings and unexpected errors go. Default `console`. */
  logger?: Logger;
  /** Clock in milliseconds since the epoch, for tests. Default `Date.now`. */
  now?: () => number;
}

/** The defaults, in one place. */
export const DEFAULTS = {
  mountPath: '/clusters',
  tokenCookie: DEFAULT_TOKEN_COOKIE,
  allowedOrigins: [],
  upstreamTimeoutMs: 60_000,
  engine: 'undici',
} as const satisfies Partial<ClusterProxyOptions>;

/** Options after validation, every default applied. */
export interface ResolvedOptions {
  /** `mountPath` without a trailing slash; `''` when mounted at the root. */
  mountPrefix: string;
  mountPath: string;
  resolver: ClusterResolver;
  tokenStore: TokenStore;
  tokenCookie: string;
  allowedOrigins: ReadonlySet<string>;
  upstreamTimeoutMs: number;
  engine: ForwardEngine;
  emitter: HookEmitter;
  logger: Logger;
  policy: CompiledPolicy | undefined;
  now: () => number;
  sessions: SessionTokenSource | undefined;
  /** Request tracing; `undefined` when off or `@opentelemetry/api` is not installed. */
  tracing: Tracing | undefined;
  share: ResolvedShare;
  limits: ResolvedLimits | undefined;
}

/**
 * Validates `createClusterProxy()` options once, at construction.
 * @throws {InvalidOptionError} naming the option and the rule.
 */
export function resolveOptions(options: ClusterProxyOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('createClusterProxy() needs an options object with at least `clusters`');
  }
  checkKnownOptions(
    options,
    ['mountPath', 'clusters', 'tokenStore', 'tokenCookie', 'allowedOrigins', 'upstreamTimeoutMs', 'upstreamTimeout', 'engine', 'sessions', 'on', 'policy', 'tracing', 'share', 'limits', 'logger', 'now'],
    'createClusterProxy',
  );
  const mountPath = options.mountPath ?? DEFAULTS.mountPath;
  if (typeof mountPath !== 'string' || !/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(mountPath) || /(^|\/)\.\.?(\/|$)/.test(mountPath) || mountPath.includes('//')) {
    throw new InvalidOptionError(`mountPath must be an absolute path such as '/clusters'; got ${JSON.stringify(mountPath)}`);
  }
  if (options.clusters === undefined) {
    throw new InvalidOptionError('clusters is required: an array of cluster configurations or a ClusterResolver');
  }
  const resolver = isClusterResolver(options.clusters)
    ? options.clusters
    : staticClusters(options.clusters);
  const tokenCookie = options.tokenCookie ?? DEFAULTS.tokenCookie;
  if (typeof tokenCookie !== 'string' || !isHttpToken(tokenCookie)) {
    throw new InvalidOptionError(`tokenCookie must be a valid cookie name; got ${JSON.stringify(tokenCookie)}`);
  }
  if (options.upstreamTimeoutMs !== undefined && options.upstreamTimeout !== undefined) {
    throw new InvalidOptionError('upstreamTimeoutMs and upstreamTimeout (its deprecated name) are both given: keep upstreamTimeoutMs');
  }
  const timeoutName = options.upstreamTimeout === undefined ? 'upstreamTimeoutMs' : 'upstreamTimeout';
  const upstreamTimeoutMs = options.upstreamTimeoutMs ?? options.upstreamTimeout ?? DEFAULTS.upstreamTimeoutMs;
  if (typeof upstreamTimeoutMs !== 'number' || !(upstreamTimeoutMs > 0) || upstreamTimeoutMs > 2_147_483_647) {
    throw new InvalidOptionError(`${timeoutName} must be a positive number of milliseconds; got ${String(upstreamTimeoutMs)}`);
  }
  const engine = options.engine ?? DEFAULTS.engine;
  if (engine !== 'undici' && engine !== 'http-proxy-middleware') {
    throw new InvalidOptionError(`engine must be 'undici' or 'http-proxy-middleware'; got ${JSON.stringify(engine)}`);
  }
  if (Array.isArray(options.clusters)) {
    // The resolver's clusters are checked when first used (pipeline/upstreams.ts); a list now.
    options.clusters.forEach((cluster: ClusterConfig, index) => {
      const problem = engineProblem(cluster, engine);
      if (problem) throw new InvalidOptionError(`clusters[${index}] ("${cluster.name}"): ${problem}`);
    });
  }
  const store = options.tokenStore;
  if (store !== undefined && !isTokenStore(store)) {
    throw new InvalidOptionError('tokenStore must implement get(key), set(key, value, ttlMs) and delete(key)');
  }
  const logger = options.logger ?? console;
  if (typeof logger?.warn !== 'function' || typeof logger.error !== 'function') {
    throw new InvalidOptionError('logger must have warn() and error() methods');
  }
  const emitter = createHookEmitter(options.on, logger);
  if (options.upstreamTimeout !== undefined) logger.warn('kube-cluster-proxy: the upstreamTimeout option is deprecated: use upstreamTimeoutMs');
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new InvalidOptionError('now must be a function returning milliseconds since the epoch');
  }
  const now = options.now ?? Date.now;
  const sessions = options.sessions;
  if (sessions !== undefined && !(typeof sessions.tokenFor === 'function' && typeof sessions.track === 'function')) {
    throw new InvalidOptionError('sessions must be a session component such as oidcSessions() (tokenFor and track)');
  }
  return {
    sessions,
    mountPath,
    mountPrefix: mountPath.replace(/\/+$/, ''),
    resolver,
    tokenStore: store ?? memoryTokenStore(options.now ? { now } : {}),
    tokenCookie,
    allowedOrigins: normalizeAllowedOrigins(options.allowedOrigins ?? DEFAULTS.allowedOrigins),
    upstreamTimeoutMs,
    engine,
    emitter,
    logger,
    policy: options.policy === undefined ? undefined : validatePolicy(options.policy, 'policy'),
    tracing: resolveTracing(options.tracing),
    share: resolveShareOptions(options.share),
    limits: resolveLimitOptions(options.limits),
    now,
  };
}
