import type { IncomingMessage, ServerResponse } from 'node:http';
import { ClusterProxyError, InternalProxyError } from '../errors.ts';
import { writeStatus } from '../status.ts';
import { sendJson } from './session-routes.ts';

/** A request handler for Express (`app.use('/auth', sessions.router)`) or `node:http`. */
export type SessionRouter = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

const BASE = 'http://session.invalid';

type Route = (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => Promise<void>;

/** Answers requests outside the routes when the router is not mounted in a framework that would. */
const NOT_FOUND = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'not found', reason: 'NotFound', code: 404 };

/**
 * Dispatches `"<METHOD> <path>"` to its route; anything else goes to `next` (or a `404`). A
 * route's refusal (a {@link ClusterProxyError}) is answered as its `Status`; anything else is the
 * router's own failure: a `500` saying so, the details to the logger only.
 */
export function createSessionRouter(routes: Readonly<Record<string, Route>>, logger: Pick<Console, 'error'>): SessionRouter {
  return function sessionRouter(req, res, next) {
    const url = URL.canParse(req.url ?? '/', BASE) ? new URL(req.url ?? '/', BASE) : undefined;
    const key = url && `${req.method ?? 'GET'} ${url.pathname.replace(/\/+$/, '') || '/'}`;
    const route = key !== undefined && Object.hasOwn(routes, key) ? routes[key] : undefined;
    if (!url || !route) {
      if (next) next();
      else sendJson(res, 404, NOT_FOUND);
      return;
    }
    // A route that throws instead of rejecting fails the same way.
    new Promise<void>((resolve) => resolve(route(req, res, url.searchParams))).catch((error: unknown) => {
      if (error instanceof ClusterProxyError) {
        writeStatus(res, error);
        return;
      }
      logger.error('kube-cluster-proxy: session route failed:', error);
      writeStatus(res, new InternalProxyError('internal error in the cluster proxy (the details are in its log)', { cause: error }));
    });
  };
}
