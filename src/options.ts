import { isHttpToken } from './checks.ts';
import type { ClusterConfig } from './clusters/cluster-config.ts';
import { isClusterResolver, type ClusterResolver } from './clusters/cluster-resolver.ts';
import { staticClusters } from './clusters/static-clusters.ts';
import type { CredentialKind } from './credentials/cluster-credentials.ts';
import { normalizeAllowedOrigins } from './credentials/origin.ts';
import { DEFAULT_TOKEN_COOKIE } from './credentials/token-cookie.ts';
import type { UserTokenSource } from './credentials/user-token.ts';
import { InvalidOptionError, type ClusterProxyError } from './errors.ts';
import { checkKnownOptions } from './known-options.ts';
import type { SessionTokenSource } from './sessions/oidc-sessions.ts';
import { memoryTokenStore } from './tokens/memory-token-store.ts';
import type { TokenStore } from './tokens/token-store.ts';

/** Whose identity a request carried to the cluster, and where it came from. Never the credential itself. */
export interface RequestIdentity {
  /**
   * `'user'`: the user's own token; `'cluster'`: the cluster's credentials; `'impersonated'`: the
   * cluster's credentials impersonating the user whose token the proxy verified.
   */
  kind: 'user' | 'cluster' | 'impersonated';
  /** Where the user's token was found (`'user'`, `'impersonated'`), or the kind of the cluster's credentials. */
  source: UserTokenSource | CredentialKind;
}

/** What hooks learn about a proxied request. Tokens, cookies and query strings are left out. */
export interface ProxyEvent {
  cluster: string;
  identity: RequestIdentity;
  method: string;
  /** The upstream path, relative to the cluster's server, without the query string. */
  path: string;
  /** Whether the request is a connection upgrade (WebSocket, SPDY). */
  upgrade: boolean;
}

/** A response from the cluster (for an upgrade: a refusal, i.e. anything but `101`). */
export interface ProxyResponseEvent extends ProxyEvent {
  statusCode: number;
  /** Milliseconds from the proxy receiving the request to the cluster's response headers. */
  durationMs: number;
}

/** An upgraded connection opened (`101` relayed) or closed. */
export interface UpgradeEvent extends ProxyEvent {
  phase: 'open' | 'close';
  /** The subprotocol the cluster chose, if any. */
  protocol: string | undefined;
  /** For `'close'`: how long the connection lived, in milliseconds. */
  durationMs: number;
}

/** An error the proxy answered with a `Status`. */
export interface ProxyErrorEvent {
  error: ClusterProxyError;
  cluster: string | undefined;
  identity: RequestIdentity | undefined;
  method: string;
  path: string | undefined;
  upgrade: boolean;
}

/**
 * Hooks for logging and auditing. They run synchronously on the request path: keep them cheap.
 * An exception thrown by a hook is logged and otherwise ignored.
 */
export interface ClusterProxyHooks {
  /** Before a request is sent to the cluster, credentials attached. */
  proxyReq?: (event: ProxyEvent) => void;
  /** When the cluster's response headers arrive. */
  proxyRes?: (event: ProxyResponseEvent) => void;
  /** When an upgraded connection opens or closes. */
  upgrade?: (event: UpgradeEvent) => void;
  /** When the proxy answers with an error of its own. */
  error?: (event: ProxyErrorEvent) => void;
  /**
   * When the cluster resolver reports a problem, e.g. a kubeconfig file that no longer parses (the
   * last good clusters stay) or a broken context. Default: the error is logged with `logger.error`.
   */
  resolverError?: (event: { error: Error }) => void;
}

/** Where the proxy reports warnings and unexpected errors. */
export type Logger = Pick<Console, 'warn' | 'error'>;

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
   * answering `504`. Watches and followed logs are exempt once they start. Default `60_000`.
   */
  upstreamTimeout?: number;
  /**
   * Browser login sessions (`oidcSessions()`): `'user'` and `'user-then-cluster'` clusters take the
   * session's token when a request carries no other, for HTTP and upgrades alike. Default: none.
   */
  sessions?: SessionTokenSource;
  /** Logging and auditing hooks. */
  on?: ClusterProxyHooks;
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
  upstreamTimeout: 60_000,
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
  upstreamTimeout: number;
  hooks: ClusterProxyHooks;
  logger: Logger;
  now: () => number;
  sessions: SessionTokenSource | undefined;
}

const HOOK_NAMES = ['proxyReq', 'proxyRes', 'upgrade', 'error', 'resolverError'] as const;

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
    ['mountPath', 'clusters', 'tokenStore', 'tokenCookie', 'allowedOrigins', 'upstreamTimeout', 'sessions', 'on', 'logger', 'now'],
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
  const upstreamTimeout = options.upstreamTimeout ?? DEFAULTS.upstreamTimeout;
  if (typeof upstreamTimeout !== 'number' || !(upstreamTimeout > 0) || upstreamTimeout > 2_147_483_647) {
    throw new InvalidOptionError(`upstreamTimeout must be a positive number of milliseconds; got ${String(upstreamTimeout)}`);
  }
  const store = options.tokenStore;
  if (store !== undefined && !(['get', 'set', 'delete'] as const).every((m) => typeof store[m] === 'function')) {
    throw new InvalidOptionError('tokenStore must implement get(key), set(key, value, ttlMs) and delete(key)');
  }
  const hooks = options.on ?? {};
  for (const [name, hook] of Object.entries(hooks)) {
    if (!(HOOK_NAMES as readonly string[]).includes(name)) {
      throw new InvalidOptionError(`on.${name} is not a hook; hooks are ${HOOK_NAMES.join(', ')}`);
    }
    if (hook !== undefined && typeof hook !== 'function') throw new InvalidOptionError(`on.${name} must be a function`);
  }
  const logger = options.logger ?? console;
  if (typeof logger?.warn !== 'function' || typeof logger.error !== 'function') {
    throw new InvalidOptionError('logger must have warn() and error() methods');
  }
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
    upstreamTimeout,
    hooks,
    logger,
    now,
  };
}
