import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { NotAttachedError, ProxyClosedError } from '../errors.ts';
import { connectionTokens } from '../forward/headers.ts';
import type { HookEmitter, Logger } from '../hooks.ts';
import type { Tracing } from '../tracing/request-trace.ts';
import type { Answers } from './answer.ts';
import { describeExchange } from './observer.ts';
import type { Prepare, PreparedRequest, PrepareProgress } from './prepare.ts';
import { mountMismatch, parseClusterPath, routeNotFound, type ClusterRequestPath } from './route.ts';
import type { Serve } from './serve.ts';

/** What the request handlers need from the proxy. */
export interface HandlerDependencies {
  mountPrefix: string;
  mountPath: string;
  prepare: Prepare;
  /** Serves a prepared request: limits, sharing, then its route. */
  serve: Serve;
  answers: Answers;
  emitter: HookEmitter;
  logger: Logger;
  /** Request tracing, when on. */
  tracing: Tracing | undefined;
  /** Whether the proxy drains or closed: later requests and upgrades are answered `503` with `Retry-After`. */
  closed(): boolean;
  /** Counts an HTTP request under the mount path until its response closes (a drain waits for it). */
  track(res: ServerResponse): void;
}

/**
 * The two entry points, HTTP and upgrade: each routes the target, runs the one preparation step
 * and hands the prepared request on to be served (limits, sharing, its route's forwarder). Every refusal, synchronous or not,
 * ends in the one error mapper.
 */
export function createHandlers(deps: HandlerDependencies) {
  const { answers, emitter, mountPrefix } = deps;

  function route(req: IncomingMessage, target: string, method: string, upgrade: boolean, client: ServerResponse | Duplex): ClusterRequestPath | undefined | false {
    try {
      return parseClusterPath(target, mountPrefix);
    } catch (error) {
      answers.fail(error, { method, upgrade, req }, client);
      return false;
    }
  }

  function run(req: IncomingMessage, target: ClusterRequestPath, upgrade: boolean, client: ServerResponse | Duplex, forward: (prepared: PreparedRequest) => void): void {
    const progress: PrepareProgress = {};
    const context = { method: req.method ?? 'GET', upgrade, target, req, progress };
    const trace = deps.tracing?.start(req, client, target.cluster, target.path, upgrade);
    (async () => {
      if (deps.closed()) throw new ProxyClosedError('the cluster proxy is shutting down: try again, another replica may answer', { cluster: target.cluster });
      const prepared = await (trace ? trace.step('prepare', () => deps.prepare(req, target, upgrade, progress, trace)) : deps.prepare(req, target, upgrade, progress));
      if (emitter.has('proxyReq')) emitter.emit('proxyReq', describeExchange(prepared.exchange));
      const { exchange } = prepared;
      trace?.upstream(exchange.headers, exchange.cluster.server, exchange.method);
      forward(prepared);
    })().catch((error: unknown) => {
      const answered = answers.fail(error, context, client);
      trace?.answered(answered);
    });
  }

  function http(req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void {
    const method = req.method ?? 'GET';
    const target = route(req, (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/', method, false, res);
    if (target === false) return;
    if (!target) {
      const mistake = mountMismatch(req, mountPrefix, deps.mountPath);
      if (mistake) {
        deps.logger.error(`kube-cluster-proxy: ${mistake.message}`);
        answers.fail(mistake, { method, upgrade: false, req }, res);
      } else if (next) next();
      else answers.fail(routeNotFound(deps.mountPath), { method, upgrade: false, req }, res);
      return;
    }
    if (req.headers.upgrade !== undefined && connectionTokens(req.headers.connection).has('upgrade')) {
      // Node hands an upgrade to the request handler when no 'upgrade' listener exists: the setup
      // mistake behind most "exec and logs fail while HTTP works" reports. Say so rather than
      // forward a request that the cluster cannot upgrade.
      const mistake = new NotAttachedError(
        `a ${req.headers.upgrade} upgrade reached the proxy's HTTP handler: call proxy.attach(server), or route upgrades to proxy.upgrade()`,
        { cluster: target.cluster },
      );
      deps.logger.error(`kube-cluster-proxy: ${mistake.message}`);
      answers.fail(mistake, { method, upgrade: true, target, req }, res);
      return;
    }
    if (!deps.closed()) deps.track(res);
    run(req, target, false, res, (prepared) => deps.serve.http(req, res, prepared));
  }

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A client that resets before the cluster takes over must not crash the process.
    socket.on('error', () => {});
    const method = req.method ?? 'GET';
    const target = route(req, req.url ?? '/', method, true, socket);
    if (target === false) return;
    if (!target) {
      answers.fail(routeNotFound(deps.mountPath), { method, upgrade: true, req }, socket);
      return;
    }
    run(req, target, true, socket, (prepared) => deps.serve.upgrade(req, socket, head, prepared));
  }

  return { http, upgrade };
}
