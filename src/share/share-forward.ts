import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PreparedRequest } from '../pipeline/prepare.ts';
import type { WatchHub } from './watch-hub.ts';
import { onWrittenResourceVersion } from './write-version.ts';

/** How a prepared HTTP request is answered: by its route's forwarder, or from what the proxy shares. */
export type ForwardHttp = (req: IncomingMessage, res: ServerResponse, prepared: PreparedRequest) => void;

/**
 * The step between preparation and forwarding: a watch to share is served by the hub; a write
 * that a shared watch of the same identity must see is forwarded with its answer's
 * resourceVersion remembered; everything else goes to the route as it would without sharing.
 */
export function createShareForward(hub: WatchHub | undefined): ForwardHttp {
  return (req, res, { route, exchange }) => {
    if (hub) {
      if (hub.serve(req, res, exchange, route)) return;
      const keys = hub.wantsWrite(exchange);
      if (keys) onWrittenResourceVersion(res, (resourceVersion) => hub.written(keys, resourceVersion));
    }
    route.http(req, res, exchange);
  };
}
