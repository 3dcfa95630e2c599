import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { InFlightLimits } from '../limits/in-flight-limits.ts';
import type { Share } from '../share/share.ts';
import type { PreparedRequest } from './prepare.ts';

/** How a prepared request is served: counted against the limits, then shared or forwarded on its route. */
export interface Serve {
  http(req: IncomingMessage, res: ServerResponse, prepared: PreparedRequest): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, prepared: PreparedRequest): void;
}

/**
 * The one step between preparation and forwarding. A request over a limit is refused (the
 * `TooManyRequestsError` thrown reaches the handler's error mapper); one within counts until its
 * response or socket closes, whatever ends it.
 */
export function createServe(limits: InFlightLimits | undefined, share: Share | undefined): Serve {
  function count(prepared: PreparedRequest, client: ServerResponse | Duplex, address: string | undefined): void {
    if (!limits) return;
    const release = limits.acquire(prepared.exchange, address);
    client.once('close', release);
    // Gone while it was prepared: 'close' was emitted already.
    if (client.destroyed && (client as { closed?: boolean }).closed) release();
  }
  return {
    http(req, res, prepared) {
      count(prepared, res, req.socket.remoteAddress);
      if (share) share.http(req, res, prepared);
      else prepared.route.http(req, res, prepared.exchange);
    },
    upgrade(req, socket, head, prepared) {
      count(prepared, socket, req.socket.remoteAddress);
      prepared.route.upgrade(req, socket, head, prepared.exchange);
    },
  };
}
