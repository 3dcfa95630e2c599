import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { UpstreamTimeoutError } from '../errors.ts';
import { clientResponseHeaders } from '../forward/headers.ts';
import type { ForwardObserver } from '../forward/observer.ts';
import type { Exchange } from '../pipeline/exchange.ts';
import type { PreparedRequest } from '../pipeline/prepare.ts';
import { createDiscoveryCache, type CachedAnswer } from './discovery-cache.ts';
import { bodyEtag, ifNoneMatchMatches } from './etag.ts';
import { varyingHeaders } from './request-key.ts';

/** What one fill of the cache gives every request that waited for it. */
type Outcome =
  | { kind: 'cached'; answer: CachedAnswer }
  /** Not a `200`: passed on to the waiters (one identity) and never cached. */
  | { kind: 'relay'; status: number; headers: OutgoingHttpHeaders; body: Buffer }
  /** Larger than the cache takes: every waiter forwards its own request. */
  | { kind: 'own' }
  | { kind: 'error'; error: unknown };

/** Response headers that describe one response of the cluster, not the answer a cache replays. */
const PER_RESPONSE = new Set(['content-length', 'transfer-encoding', 'date', 'audit-id', 'set-cookie', 'etag']);

function replayable(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(clientResponseHeaders(headers))) if (!PER_RESPONSE.has(name) && value !== undefined) out[name] = value;
  return out;
}

/** The request's conditions are the client's to ask the proxy: the fill asks for the full answer. */
function unconditional(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const { 'if-none-match': _a, 'if-modified-since': _b, range: _c, ...rest } = headers;
  return rest;
}

function readBody(response: IncomingMessage, maxBytes: number, timeoutMs: number, exchange: Exchange): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const cluster = exchange.cluster.name;
    const timer = setTimeout(() => response.destroy(new UpstreamTimeoutError(`cluster "${cluster}" did not finish its discovery answer within ${timeoutMs} ms`, { cluster })), timeoutMs);
    timer.unref();
    response.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= maxBytes) chunks.push(chunk);
      else {
        clearTimeout(timer);
        response.destroy();
        resolve(undefined);
      }
    });
    response.once('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    response.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * Discovery answered from a cache per cluster, identity, `Accept` (aggregated and legacy discovery
 * differ) and path: concurrent misses share one fill, made with the proxy's own request so that no
 * client's departure cancels it for the others. `If-None-Match` is answered `304` against the
 * cluster's `ETag`, or one the proxy makes from the body. Only the cluster's `200` is cached: its
 * refusals reach the waiting requests of that one identity, and the next request asks again.
 */
export function createSharedDiscovery(options: { ttlMs: number; maxEntries: number; maxBodyBytes: number; now: () => number; observer: ForwardObserver }) {
  const cache = createDiscoveryCache(options);
  const fills = new Map<string, Promise<Outcome>>();

  async function fill(prepared: PreparedRequest, cluster: string, key: string, generation: number): Promise<Outcome> {
    const { exchange, route } = prepared;
    try {
      const response = await route.request({ method: 'GET', path: exchange.path, headers: unconditional(exchange.headers), timeoutMs: exchange.timeoutMs });
      const status = response.statusCode ?? 502;
      options.observer.response(exchange, status);
      const body = await readBody(response, options.maxBodyBytes, exchange.timeoutMs, exchange);
      if (body === undefined) return { kind: 'own' };
      const headers = replayable(response.headers);
      if (status !== 200) return { kind: 'relay', status, headers, body };
      const etag = typeof response.headers.etag === 'string' ? response.headers.etag : bodyEtag(body);
      const answer: CachedAnswer = { headers: { ...headers, etag }, body, etag, storedAt: options.now() };
      cache.set(cluster, key, answer, generation);
      return { kind: 'cached', answer };
    } catch (error) {
      return { kind: 'error', error };
    }
  }

  function deliver(outcome: Outcome, req: IncomingMessage, res: ServerResponse, prepared: PreparedRequest): void {
    if (res.destroyed) return;
    const { exchange } = prepared;
    switch (outcome.kind) {
      case 'cached': {
        const { answer } = outcome;
        if (ifNoneMatchMatches(exchange.headers['if-none-match'], answer.etag)) {
          const { 'content-type': _type, ...kept } = answer.headers;
          res.writeHead(304, kept);
          res.end();
        } else {
          res.writeHead(200, { ...answer.headers, 'content-length': answer.body.length });
          res.end(answer.body);
        }
        return;
      }
      case 'relay':
        res.writeHead(outcome.status, { ...outcome.headers, 'content-length': outcome.body.length });
        res.end(outcome.body);
        return;
      case 'own':
        prepared.route.http(req, res, exchange);
        return;
      case 'error':
        options.observer.failure(exchange, outcome.error, res);
    }
  }

  return {
    /** Serves a discovery GET of `identity` (see `discoveryPath`) from the cache, a fill in flight, or a new fill. */
    serve(req: IncomingMessage, res: ServerResponse, prepared: PreparedRequest, identity: string, path: string): void {
      const { exchange } = prepared;
      const cluster = exchange.cluster.name;
      const key = JSON.stringify([identity, path, varyingHeaders(exchange, ['accept', 'accept-encoding', 'accept-language'])]);
      const hit = cache.get(cluster, key);
      if (hit) {
        deliver({ kind: 'cached', answer: hit }, req, res, prepared);
        return;
      }
      const generation = cache.generation(cluster);
      // The generation in the key: a request after an invalidation never joins a fill from before it.
      const fillKey = `${cluster}\u0000${generation}\u0000${key}`;
      let pending = fills.get(fillKey);
      if (!pending) {
        pending = fill(prepared, cluster, key, generation).finally(() => fills.delete(fillKey));
        fills.set(fillKey, pending);
      }
      void pending.then((outcome) => deliver(outcome, req, res, prepared));
    },
    /** The cluster's APIs changed (a CRD or APIService written through the proxy): its answers go. */
    invalidate: (cluster: string): void => cache.invalidate(cluster),
  };
}

export type SharedDiscovery = ReturnType<typeof createSharedDiscovery>;
