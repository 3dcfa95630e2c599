import type { IncomingMessage, ServerResponse } from 'node:http';
import { LRUCache } from 'lru-cache';
import type { ForwardObserver } from '../forward/observer.ts';
import type { Route } from '../forward/route.ts';
import type { Exchange } from '../pipeline/exchange.ts';
import { identityKey } from './identity-key.ts';
import { SharedWatch, type WatchEnd } from './shared-watch.ts';
import type { ResolvedWatchSharing } from './share-options.ts';
import { NEWER_WAIT_MS, serveSubscriber } from './watch-subscriber.ts';
import { sharedWatchRequest } from './watch-key.ts';
import { wantsInitialEvents } from './watch-window.ts';

/** Keys whose cluster answered with something a shared watch cannot relay: they go upstream unshared for a while. */
const UNSHAREABLE_MS = 10 * 60_000;
/** How long a write is remembered for read-your-writes: a live shared watch sees it within moments. */
const WRITE_MEMORY_MS = 60_000;

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

interface Entry {
  readonly watch: SharedWatch;
  /** `cluster|identity|group|resource`, for writes to find the watches they concern. */
  readonly resource: string;
  /** Subscribers being served or deciding where they start. */
  active: number;
  linger: NodeJS.Timeout | undefined;
}

export interface WatchHubDependencies {
  readonly settings: ResolvedWatchSharing;
  readonly observer: ForwardObserver;
  readonly random?: () => number;
}

/**
 * The shared watches of one proxy, by key: a subscriber joins the upstream watch of its key or
 * starts one; the last one to leave starts the linger, after which the upstream watch ends.
 * Writes of an identity through the proxy are remembered, so that its next watch sees them.
 */
export function createWatchHub(deps: WatchHubDependencies) {
  const { settings, observer } = deps;
  const random = deps.random ?? Math.random;
  const entries = new Map<string, Entry>();
  /** How many entries watch each `cluster|identity|group|resource`: only writes to those are read. */
  const watched = new Map<string, number>();
  const unshareable = new LRUCache<string, true>({ max: 1000, ttl: UNSHAREABLE_MS });
  const writes = new LRUCache<string, number>({ max: 10_000, ttl: WRITE_MEMORY_MS });
  let closed = false;

  const resourceOf = (exchange: Exchange, identity: string) => JSON.stringify([exchange.cluster.name, identity, exchange.request.apiGroup, exchange.request.resource]);

  function remove(key: string, entry: Entry): void {
    if (entries.get(key) !== entry) return;
    entries.delete(key);
    clearTimeout(entry.linger);
    const left = (watched.get(entry.resource) ?? 1) - 1;
    if (left > 0) watched.set(entry.resource, left);
    else watched.delete(entry.resource);
    entry.watch.close();
  }

  function entryFor(key: string, resource: string, make: (onEnd: (why: WatchEnd) => void) => SharedWatch): Entry {
    const found = entries.get(key);
    if (found && !found.watch.ended) return found;
    if (found) remove(key, found);
    const made: { entry?: Entry } = {};
    const onEnd = (why: WatchEnd) => {
      if (why.kind === 'unshareable') unshareable.set(key, true);
      if (made.entry) remove(key, made.entry);
    };
    const entry: Entry = { watch: make(onEnd), resource, active: 0, linger: undefined };
    made.entry = entry;
    if (entry.watch.ended) return entry;
    entries.set(key, entry);
    watched.set(resource, (watched.get(resource) ?? 0) + 1);
    return entry;
  }

  return {
    /**
     * Serves a watch from the shared watch of its key and returns `true`, or returns `false` when
     * it is not one to share (the caller forwards it as usual).
     */
    serve(req: IncomingMessage, res: ServerResponse, exchange: Exchange, route: Route): boolean {
      if (closed || exchange.method !== 'GET' || exchange.upgrade || exchange.request.verb !== 'watch') return false;
      const identity = identityKey(exchange);
      if (identity === undefined) return false;
      const q = exchange.path.indexOf('?');
      const shared = sharedWatchRequest({
        cluster: exchange.cluster.name,
        identity,
        accept: exchange.headers.accept,
        pathname: exchange.pathname,
        query: q === -1 ? '' : exchange.path.slice(q + 1),
      });
      if (!shared || unshareable.has(shared.key)) return false;
      const { start } = shared;
      const resource = resourceOf(exchange, identity);
      const entry = entryFor(
        shared.key,
        resource,
        (onEnd) =>
          new SharedWatch({
            request: route.request,
            listPath: shared.listPath,
            probePath: shared.probePath,
            watchPath: shared.watchPath,
            headers: exchange.headers,
            onEnd,
            timeoutMs: exchange.timeoutMs,
            limits: { maxEvents: settings.windowEvents, maxBytes: settings.windowBytes },
            // The first subscriber's resourceVersion: it never has to relist.
            from: wantsInitialEvents(start) || start.resourceVersion === '' ? undefined : Number(start.resourceVersion),
          }),
      );
      // The latest subscriber's credentials are the freshest for the next resume.
      entry.watch.headers = exchange.headers;
      clearTimeout(entry.linger);
      entry.linger = undefined;
      entry.active += 1;
      const ns = exchange.request.namespace;
      let left = false;
      serveSubscriber({
        res,
        exchange,
        start,
        watch: entry.watch,
        written: start.resourceVersion === '' ? (writes.get(`${resource}|${ns === '' ? '*' : ns}`) ?? 0) : 0,
        observer,
        passThrough: () => route.http(req, res, exchange),
        maxQueuedBytes: settings.maxQueuedBytes,
        waitMs: NEWER_WAIT_MS,
        random,
        done: () => {
          if (left) return;
          left = true;
          entry.active -= 1;
          if (entry.active > 0 || entries.get(shared.key) !== entry) return;
          entry.linger = setTimeout(() => remove(shared.key, entry), settings.lingerMs).unref();
        },
      });
      return true;
    },

    /** Whether a write is one a shared watch of the same identity must see first; if so, remembers its resourceVersion once answered. */
    wantsWrite(exchange: Exchange): string[] | undefined {
      if (!WRITES.has(exchange.method) || !exchange.request.isResourceRequest || exchange.upgrade) return undefined;
      const identity = identityKey(exchange);
      if (identity === undefined) return undefined;
      const resource = resourceOf(exchange, identity);
      if (!watched.has(resource)) return undefined;
      return [`${resource}|${exchange.request.namespace}`, `${resource}|*`];
    },

    /** Records the resourceVersion a write answered with, under the keys `wantsWrite` gave. */
    written(keys: readonly string[], resourceVersion: number): void {
      for (const key of keys) writes.set(key, Math.max(writes.get(key) ?? 0, resourceVersion));
    },

    /** The number of upstream watches open or lingering. */
    get size(): number {
      return entries.size;
    },

    /** Ends every shared watch (proxy.close()); later watches are not shared. */
    close(): void {
      closed = true;
      for (const [key, entry] of [...entries]) remove(key, entry);
    },
  };
}

export type WatchHub = ReturnType<typeof createWatchHub>;
