import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { createAttachments } from './attachments.ts';
import { listable, type ClusterInfo } from './clusters/cluster-info.ts';
import { clearClusterTokenCookie, setClusterTokenCookie, type TokenCookieOptions } from './credentials/token-cookie.ts';
import { createDeadlines } from './forward/deadlines.ts';
import { resolveOptions, type ClusterProxyOptions } from './options.ts';
import { createAnswers } from './pipeline/answer.ts';
import { createHandlers } from './pipeline/handler.ts';
import { createForwardObserver } from './pipeline/observer.ts';
import { createPrepare } from './pipeline/prepare.ts';
import { createServe } from './pipeline/serve.ts';
import { createInFlightLimits } from './limits/in-flight-limits.ts';
import { createShare } from './share/share.ts';
import { createUpstreamRegistry } from './pipeline/upstreams.ts';
import { createConnections } from './lifecycle/connections.ts';
import { createDrain, type DrainOptions } from './lifecycle/drain.ts';
import { createProbes, watchResolverHealth, type ProbeHandler } from './lifecycle/readiness.ts';
import { createTokenCache } from './tokens/cached-token.ts';

/**
 * The proxy: a request handler for Express (`app.use(mountPath, proxy)`) or `node:http`
 * (`proxy(req, res)`), plus the methods that take WebSocket and SPDY upgrades through the very
 * same pipeline.
 */
export interface ClusterProxy {
  /** Handles an HTTP request under the mount path; others go to `next()` when given (Express), else get a `404` Status. */
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void;
  /** Handles a connection upgrade, for hosts that route upgrades themselves; one outside the mount path gets a `404` Status. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Takes the upgrades under the mount path on `server`, leaving every other upgrade to its other listeners; attaching twice has no effect. */
  attach(server: Server | HttpsServer): void;
  /** The valid clusters of the resolver, for a cluster picker: names, auth modes and the like, never a credential. */
  listClusters(): Promise<ClusterInfo[]>;
  /** {@link setClusterTokenCookie} with this proxy's `mountPath` and `tokenCookie`. */
  setTokenCookie(res: ServerResponse, cluster: string, token: string, options?: Pick<TokenCookieOptions, 'secure' | 'maxAgeSeconds'>): void;
  /** {@link clearClusterTokenCookie} with this proxy's `mountPath` and `tokenCookie`. */
  clearTokenCookie(res: ServerResponse, cluster: string, options?: Pick<TokenCookieOptions, 'secure'>): void;
  /**
   * Winds the proxy down for a rollout: new requests and upgrades get `503` with `Retry-After`,
   * requests in flight finish, watches and followed logs end spread over `watchSpreadMs` (their
   * clients re-watch elsewhere), exec/attach/port-forward close when `graceMs` is over. Resolves
   * once everything is closed; a second call returns the same promise. See docs/operations.md.
   * @throws {InvalidOptionError} for an option out of range.
   */
  drain(options?: DrainOptions): Promise<void>;
  /** Readiness probe handler: `200`/`503` with `{ ready, checks: { draining, tokenStore, resolver } }`. */
  readonly readiness: ProbeHandler;
  /** Liveness probe handler: `200` while the event loop answers. */
  readonly liveness: ProbeHandler;
  /** Closes at once what a drain would wind down (cutting a drain under way short); later requests get `503`. */
  close(): Promise<void>;
  /** The same as {@link ClusterProxy.close}, for `await using proxy = createClusterProxy(...)`. */
  [Symbol.asyncDispose](): Promise<void>;
  /** The validated mount path. */
  readonly mountPath: string;
}

/**
 * Creates a proxy to the Kubernetes API of many clusters: `<mountPath>/<cluster>/<api path>` goes
 * to that cluster's server, with the identity its `authMode` says, over HTTP and upgrades alike.
 * @throws {InvalidOptionError} when an option is invalid, naming it.
 */
export function createClusterProxy(options: ClusterProxyOptions): ClusterProxy {
  const resolved = resolveOptions(options);
  const { emitter, logger, mountPrefix, mountPath, resolver } = resolved;
  const answers = createAnswers(emitter, logger, resolved.now);
  const deadlines = createDeadlines();
  const connections = createConnections(resolved.now);
  const observer = createForwardObserver({ emitter, answers, sessions: resolved.sessions, now: resolved.now, connections });
  const registry = createUpstreamRegistry(resolver, {
    tokenCache: createTokenCache(resolved.tokenStore, resolved.now),
    tokenStore: resolved.tokenStore,
    now: resolved.now,
    logger,
    onError: (error) => {
      if (emitter.has('tokenStoreError')) emitter.emit('tokenStoreError', { error });
      else logger.error('kube-cluster-proxy: token store error:', error);
    },
    onFetch: emitter.has('credentialFetch') ? (event) => emitter.emit('credentialFetch', event) : undefined,
    engine: resolved.engine,
    policy: resolved.policy,
    mountPath,
    observer,
    deadlines,
  });
  const prepare = createPrepare(resolved, registry);
  const { watches, discovery, reads } = resolved.share;
  const share = watches || discovery || reads ? createShare(resolved.share, { observer, now: resolved.now }) : undefined;
  const down = createDrain({
    connections,
    async release() {
      share?.close();
      unsubscribe?.();
      unsubscribeRefresh?.();
      resolver.close?.();
      attachments.detachAll();
      deadlines.close();
      await registry.close();
    },
  });
  const serve = createServe(resolved.limits && createInFlightLimits(resolved.limits), share);
  const handlers = createHandlers({ mountPrefix, mountPath, prepare, serve, answers, emitter, logger, tracing: resolved.tracing, closed: down.draining, track: connections.request });
  const attachments = createAttachments(mountPrefix, mountPath, handlers.upgrade);
  const health = watchResolverHealth();
  const unsubscribeRefresh = emitter.has('sessionRefresh') ? resolved.sessions?.onRefresh?.((event) => emitter.emit('sessionRefresh', event)) : undefined;
  const unsubscribe = resolver.subscribe?.((event) => {
    health.listen(event);
    if (event.type !== 'error') return;
    if (emitter.has('resolverError')) emitter.emit('resolverError', { error: event.error });
    else logger.error(`kube-cluster-proxy: ${event.error.message}`);
  });
  const probes = createProbes({ draining: down.draining, tokenStore: resolved.tokenStore, resolver, resolverFatal: health.fatal });
  const cookie = { mountPath, cookieName: resolved.tokenCookie };
  return Object.assign(handlers.http, {
    upgrade: handlers.upgrade,
    attach: attachments.attach,
    // A cluster whose configuration is invalid is left out; requests to it answer 500 naming the mistake.
    listClusters: async () => (await resolver.list()).flatMap((config) => listable(config, logger)),
    setTokenCookie: (res: ServerResponse, cluster: string, token: string, o?: Pick<TokenCookieOptions, 'secure' | 'maxAgeSeconds'>) =>
      setClusterTokenCookie(res, cluster, token, { ...o, ...cookie }),
    clearTokenCookie: (res: ServerResponse, cluster: string, o?: Pick<TokenCookieOptions, 'secure'>) => clearClusterTokenCookie(res, cluster, { ...o, ...cookie }),
    drain: down.drain,
    readiness: probes.readiness,
    liveness: probes.liveness,
    close: down.close,
    [Symbol.asyncDispose]: down.close,
    mountPath,
  });
}
