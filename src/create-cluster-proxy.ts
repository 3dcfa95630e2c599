import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { createTokenCache } from './tokens/cached-token.ts';
import { setClusterTokenCookie, clearClusterTokenCookie, type TokenCookieOptions } from './credentials/token-cookie.ts';
import { BadRequestError, ClusterProxyError, InternalProxyError, InvalidOptionError, ProxyClosedError, RouteNotFoundError } from './errors.ts';
import type { Exchange } from './exchange.ts';
import { resolveOptions, type ClusterProxyHooks, type ClusterProxyOptions, type ProxyEvent } from './options.ts';
import { createPipeline, type PreparedRequest } from './pipeline.ts';
import { forwardUpgrade } from './proxy/forward-upgrade.ts';
import { toUpstreamError } from './proxy/upstream-error.ts';
import { connectionTokens } from './proxy/headers.ts';
import { isUnderMount, parseClusterPath, type ClusterRequestPath } from './request-path.ts';
import { writeStatus, writeStatusToSocket } from './status.ts';
import { createUpstreamRegistry } from './upstreams.ts';
import type { ClusterConfig } from './clusters/cluster-config.ts';

/**
 * The proxy: a request handler for Express (`app.use(mountPath, proxy)`) or `node:http`
 * (`proxy(req, res)`), plus the methods that take WebSocket and other upgrades through the very
 * same pipeline.
 */
export interface ClusterProxy {
  /**
   * Handles an HTTP request under the mount path. Requests outside it go to `next()` when given
   * (Express), else get a `404` Status.
   */
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void;
  /**
   * Handles a connection upgrade. For hosts that route upgrades themselves; an upgrade outside the
   * mount path gets a `404` Status.
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /**
   * Takes the upgrades under the mount path on `server`; every other upgrade is left to the
   * server's other `upgrade` listeners. Attaching the same server twice has no effect.
   */
  attach(server: Server | HttpsServer): void;
  /** Lists the clusters of the resolver, e.g. for a cluster picker. */
  listClusters(): Promise<readonly ClusterConfig[]>;
  /** {@link setClusterTokenCookie} with this proxy's `mountPath` and `tokenCookie`. */
  setTokenCookie(res: ServerResponse, cluster: string, token: string, options?: Pick<TokenCookieOptions, 'secure' | 'maxAgeSeconds'>): void;
  /** {@link clearClusterTokenCookie} with this proxy's `mountPath` and `tokenCookie`. */
  clearTokenCookie(res: ServerResponse, cluster: string, options?: Pick<TokenCookieOptions, 'secure'>): void;
  /**
   * Detaches from attached servers, closes every upgraded connection and destroys the agents.
   * Requests arriving afterwards are answered `503`.
   */
  close(): Promise<void>;
  /** The validated mount path. */
  readonly mountPath: string;
}

function describeEvent(exchange: Exchange): ProxyEvent {
  return {
    cluster: exchange.cluster.name,
    identity: exchange.identity,
    method: exchange.method,
    path: exchange.pathname,
    upgrade: exchange.upgrade,
  };
}

/**
 * Creates a proxy to the Kubernetes API of many clusters: `<mountPath>/<cluster>/<api path>` goes
 * to that cluster's server, with the identity its `authMode` says, over HTTP and upgrades alike.
 * @throws {InvalidOptionError} when an option is invalid, naming it.
 */
export function createClusterProxy(options: ClusterProxyOptions): ClusterProxy {
  const resolved = resolveOptions(options);
  const { hooks, logger, mountPrefix } = resolved;
  const upgradedSockets = new Set<Duplex>();
  const attached = new Map<Server | HttpsServer, (req: IncomingMessage, socket: Duplex, head: Buffer) => void>();
  let closed = false;

  function emit<K extends keyof ClusterProxyHooks>(name: K, event: Parameters<NonNullable<ClusterProxyHooks[K]>>[0]): void {
    const hook = hooks[name] as ((e: typeof event) => void) | undefined;
    if (!hook) return;
    try {
      hook(event);
    } catch (error) {
      logger.error(`kube-cluster-proxy: the ${name} hook threw:`, error);
    }
  }

  function toProxyError(error: unknown, exchange?: Exchange, cluster?: string): ClusterProxyError {
    if (error instanceof ClusterProxyError) return error;
    if (exchange) return toUpstreamError(error, exchange.cluster);
    logger.error('kube-cluster-proxy: unexpected error:', error);
    return new InternalProxyError({ ...(cluster === undefined ? {} : { cluster }), cause: error });
  }

  function report(error: ClusterProxyError, req: IncomingMessage, upgrade: boolean, exchange?: Exchange, target?: ClusterRequestPath): void {
    emit('error', {
      error,
      cluster: exchange?.cluster.name ?? error.cluster ?? target?.cluster,
      identity: exchange?.identity,
      method: req.method ?? 'GET',
      path: exchange?.pathname ?? target?.pathname,
      upgrade,
    });
  }

  function rejected(exchange: Exchange, statusCode: number): void {
    if (statusCode === 401 && exchange.credential) exchange.credentials?.rejected(exchange.credential);
  }

  const registry = createUpstreamRegistry(resolved.resolver, {
    tokenCache: createTokenCache(resolved.tokenStore, resolved.now),
    tokenStore: resolved.tokenStore,
    now: resolved.now,
    logger,
    onError: (error) => logger.error('kube-cluster-proxy: token store error:', error),
    observer: {
      response(exchange, statusCode) {
        rejected(exchange, statusCode);
        if (hooks.proxyRes) emit('proxyRes', { ...describeEvent(exchange), statusCode, durationMs: resolved.now() - exchange.startedAt });
      },
      failure(exchange, res, error) {
        const proxyError = toProxyError(error, exchange);
        report(proxyError, res.req, false, exchange);
        writeStatus(res, proxyError);
      },
    },
  });
  const prepare = createPipeline(resolved, registry);
  const unsubscribe = resolved.resolver.subscribe?.((event) => {
    if (event.type !== 'error') return;
    if (hooks.resolverError) emit('resolverError', { error: event.error });
    else logger.error(`kube-cluster-proxy: ${event.error.message}`);
  });

  function misMounted(req: IncomingMessage): InvalidOptionError | undefined {
    const baseUrl = (req as { baseUrl?: string }).baseUrl;
    if (!baseUrl || mountPrefix.startsWith(baseUrl)) return undefined;
    return new InvalidOptionError(
      `the proxy is mounted at "${baseUrl}" but its mountPath option is "${resolved.mountPath}"; ` +
        'pass the same path to both',
    );
  }

  /**
   * The pipeline's preparation, HTTP or upgrade; a refusal is reported to the hooks and answered
   * with `answer`, and `undefined` returned.
   */
  async function tryPrepare(
    req: IncomingMessage,
    target: ClusterRequestPath,
    upgrade: boolean,
    answer: (error: ClusterProxyError) => void,
  ): Promise<PreparedRequest | undefined> {
    try {
      if (closed) throw new ProxyClosedError(target.cluster);
      return await prepare(req, target, upgrade);
    } catch (error) {
      const proxyError = toProxyError(error, undefined, target.cluster);
      report(proxyError, req, upgrade, undefined, target);
      answer(proxyError);
      return undefined;
    }
  }

  /**
   * The last resort of every asynchronous path: whatever escaped is answered as an internal error
   * (or the connection cut if the answer began), never left as an unhandled rejection.
   */
  function unexpected(error: unknown, req: IncomingMessage, upgrade: boolean, answer: (error: ClusterProxyError) => void, target: ClusterRequestPath): void {
    const proxyError = toProxyError(error, undefined, target.cluster);
    report(proxyError, req, upgrade, undefined, target);
    try {
      answer(proxyError);
    } catch (failed) {
      logger.error('kube-cluster-proxy: could not answer an error:', failed);
      req.socket.destroy();
    }
  }

  /** Parses the request target; a malformed one is reported and answered with `answer`. */
  function tryRoute(req: IncomingMessage, target: string, upgrade: boolean, answer: (error: ClusterProxyError) => void): ClusterRequestPath | undefined | null {
    try {
      // An absolute-form target (`GET http://host/...`) is for forward proxies, not for this one.
      if (!target.startsWith('/')) throw new BadRequestError('the request target must be a path');
      return parseClusterPath(target, mountPrefix);
    } catch (error) {
      const proxyError = toProxyError(error);
      report(proxyError, req, upgrade);
      answer(proxyError);
      return null;
    }
  }

  const handler = function clusterProxy(req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void {
    const answer = (error: ClusterProxyError) => writeStatus(res, error);
    const target = tryRoute(req, (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/', false, answer);
    if (target === null) return;
    if (!target) {
      const mistake = misMounted(req);
      if (mistake) {
        logger.error(`kube-cluster-proxy: ${mistake.message}`);
        report(mistake, req, false);
        writeStatus(res, mistake);
      } else if (next) {
        next();
      } else {
        writeStatus(res, new RouteNotFoundError(resolved.mountPath));
      }
      return;
    }
    if (req.headers.upgrade !== undefined && connectionTokens(req.headers.connection).has('upgrade')) {
      // Node hands an upgrade to the request handler when no 'upgrade' listener exists: the setup
      // mistake behind most "exec and logs fail while HTTP works" reports. Say so rather than
      // forward a request that the cluster cannot upgrade.
      const mistake = new InvalidOptionError(
        `a ${req.headers.upgrade} upgrade reached the proxy's HTTP handler: call proxy.attach(server), or route upgrades to proxy.upgrade()`,
      );
      logger.error(`kube-cluster-proxy: ${mistake.message}`);
      report(mistake, req, true, undefined, target);
      writeStatus(res, mistake);
      return;
    }
    (async () => {
      const prepared = await tryPrepare(req, target, false, answer);
      if (!prepared) return;
      const { exchange, route } = prepared;
      req.url = exchange.path;
      if (hooks.proxyReq) emit('proxyReq', describeEvent(exchange));
      route.forwardHttp(req, res, exchange);
    })().catch((error: unknown) => unexpected(error, req, false, answer, target));
  } as ClusterProxy;

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: ClusterRequestPath): void {
    // Until the upstream takes over, a client error (reset) must not crash the process.
    const guard = () => {};
    socket.on('error', guard);
    const answer = (error: ClusterProxyError) => writeStatusToSocket(socket, error);
    (async () => {
      const prepared = await tryPrepare(req, target, true, answer);
      if (!prepared) return;
      const { exchange, route } = prepared;
      emit('proxyReq', describeEvent(exchange));
      forwardUpgrade(exchange.cluster, route.agent, exchange, req, socket, head, {
        opened(ex, response) {
          socket.off('error', guard);
          upgradedSockets.add(socket);
          if (ex.session !== undefined) resolved.sessions?.track(ex.session, socket);
          const protocol = response.headers['sec-websocket-protocol'];
          emit('upgrade', { ...describeEvent(ex), phase: 'open', protocol, durationMs: 0 });
        },
        closed(ex) {
          upgradedSockets.delete(socket);
          emit('upgrade', { ...describeEvent(ex), phase: 'close', protocol: undefined, durationMs: resolved.now() - ex.startedAt });
        },
        refused(ex, statusCode) {
          rejected(ex, statusCode);
          emit('proxyRes', { ...describeEvent(ex), statusCode, durationMs: resolved.now() - ex.startedAt });
        },
        failure(ex, failedSocket, error, answerable) {
          const proxyError = toProxyError(error, ex);
          report(proxyError, req, true, ex);
          if (answerable) writeStatusToSocket(failedSocket, proxyError);
          else failedSocket.destroy();
        },
      });
    })().catch((error: unknown) => unexpected(error, req, true, answer, target));
  }

  handler.upgrade = function upgrade(req, socket, head) {
    const target = tryRoute(req, req.url ?? '/', true, (error) => writeStatusToSocket(socket, error));
    if (target === null) return;
    if (!target) {
      writeStatusToSocket(socket, new RouteNotFoundError(resolved.mountPath));
      return;
    }
    handleUpgrade(req, socket, head, target);
  };

  handler.attach = function attach(server) {
    if (attached.has(server)) return;
    const listener = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = req.url ?? '/';
      if (isUnderMount(url, mountPrefix)) {
        handler.upgrade(req, socket, head);
      } else if (server.listenerCount('upgrade') === 1) {
        // Nobody else will answer: with a listener, Node no longer closes unclaimed upgrades itself.
        writeStatusToSocket(socket, new RouteNotFoundError(resolved.mountPath));
      }
    };
    attached.set(server, listener);
    server.on('upgrade', listener);
  };

  handler.listClusters = async () => [...(await resolved.resolver.list())];

  handler.setTokenCookie = (res, cluster, token, cookieOptions) =>
    setClusterTokenCookie(res, cluster, token, { ...cookieOptions, mountPath: resolved.mountPath, cookieName: resolved.tokenCookie });

  handler.clearTokenCookie = (res, cluster, cookieOptions) =>
    clearClusterTokenCookie(res, cluster, { ...cookieOptions, mountPath: resolved.mountPath, cookieName: resolved.tokenCookie });

  handler.close = () => {
    closed = true;
    unsubscribe?.();
    resolved.resolver.close?.();
    for (const [server, listener] of attached) server.off('upgrade', listener);
    attached.clear();
    for (const socket of upgradedSockets) socket.destroy();
    upgradedSockets.clear();
    registry.close();
    return Promise.resolve();
  };

  Object.defineProperty(handler, 'mountPath', { value: resolved.mountPath, enumerable: true });
  return handler;
}
