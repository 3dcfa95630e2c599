import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Exchange } from '../pipeline/exchange.ts';

/** Bytes that came with an upgrade's handshake, before the sockets were piped. */
export interface UpgradeHeads {
  fromClient: Buffer;
  fromCluster: Buffer;
}

/**
 * What every forwarder (HTTP engines and the upgrade pipe) reports back to the pipeline: one
 * observer, so that hooks, `401` feedback and error answers are the same whichever way a request
 * went.
 */
export interface ForwardObserver {
  /** The cluster's response headers arrived; for an upgrade, the cluster refused it (anything but `101`). */
  response(exchange: Exchange, statusCode: number): void;
  /**
   * The cluster switched protocols; `socket` (the client's) is now piped to `upstream` (the
   * cluster's), whose bytes the pipeline may count or record by listening, never by pausing;
   * `heads` are the bytes each side sent along with the handshake, already relayed.
   */
  opened(exchange: Exchange, socket: Duplex, protocol: string | undefined, upstream: Duplex, heads: UpgradeHeads): void;
  /** An upgraded connection ended; `by` is the side that closed or reset it. */
  closed(exchange: Exchange, socket: Duplex, by: 'client' | 'cluster'): void;
  /**
   * A watch or followed log started streaming to `response`. `end` finishes the response cleanly
   * (the chunked terminator, so that the client re-watches) and cancels the cluster's side; the
   * proxy calls it to drain or when the credential expired.
   */
  streamStarted(exchange: Exchange, response: ServerResponse, end: () => void): void;
  /**
   * The exchange failed before the cluster answered: `client` still awaits an answer (a response
   * whose headers may already be sent, which is then cut, or an upgrade's raw socket).
   */
  failure(exchange: Exchange, error: unknown, client: ServerResponse | Duplex): void;
}
