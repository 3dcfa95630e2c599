import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Exchange } from '../pipeline/exchange.ts';

/** Which HTTP forwarder a proxy uses; both pass the same tests. */
export type ForwardEngine = 'undici' | 'http-proxy-middleware';

/** An HTTP forwarder for one cluster and identity route, whichever engine it runs on. */
export interface HttpForwarder {
  /** Sends the prepared request to the cluster and streams the answer to `res`. */
  forward(req: IncomingMessage, res: ServerResponse, exchange: Exchange): void;
  /** Lets requests in flight finish, then closes the connections (a replaced configuration). */
  retire(): void;
  /** Destroys every connection now. */
  close(): Promise<void>;
}
