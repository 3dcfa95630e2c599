import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ForwardObserver } from '../forward/observer.ts';
import type { PreparedRequest } from '../pipeline/prepare.ts';
import { createCoalescedReads } from './coalesced-reads.ts';
import { changesDiscovery, discoveryPath } from './discovery-paths.ts';
import { identityKey } from './identity-key.ts';
import { isSharableRead } from './request-key.ts';
import type { ResolvedShare } from './share-options.ts';
import { createSharedDiscovery } from './shared-discovery.ts';

/** Methods that change the cluster's state: reads sent before one completes must not be joined after it. */
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The `share` option at work: each prepared HTTP request is served by the first part that takes
 * it (the discovery cache, then coalesced reads), else forwarded on its route as without sharing.
 * A request whose identity must not share (see `identityKey`) is always forwarded.
 */
export function createShare(share: ResolvedShare, deps: { observer: ForwardObserver; now: () => number }) {
  const discovery = share.discovery && createSharedDiscovery({ ...share.discovery, now: deps.now, observer: deps.observer });
  const reads = share.reads && createCoalescedReads({ ...share.reads, observer: deps.observer });

  return {
    http(req: IncomingMessage, res: ServerResponse, prepared: PreparedRequest): void {
      const { exchange, route } = prepared;
      const identity = identityKey(exchange);
      if (WRITES.has(exchange.method)) {
        res.once('close', () => {
          if (identity !== undefined) reads?.writeCompleted(identity);
          if (changesDiscovery(exchange)) discovery?.invalidate(exchange.cluster.name);
        });
      } else if (identity !== undefined) {
        const path = discovery && discoveryPath(exchange);
        if (discovery && path !== undefined) return discovery.serve(req, res, prepared, identity, path);
        if (reads && isSharableRead(exchange)) return reads.serve(res, prepared, identity);
      }
      route.http(req, res, exchange);
    },
  };
}

export type Share = ReturnType<typeof createShare>;
