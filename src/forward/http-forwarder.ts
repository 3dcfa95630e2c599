import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Exchange } from '../pipeline/exchange.ts';

/** Which HTTP forwarder a proxy uses; both pass the same tests. */
export type ForwardEngine = 'undici' | 'http-proxy-middleware';

/**
 * Why a cluster cannot be reached with `engine`, or `undefined`: only undici speaks HTTP/2, and a
 * cluster that asked for it is refused rather than quietly reached over HTTP/1.1.
 */
export function engineProblem(cluster: { readonly http2?: boolean }, engine: ForwardEngine): string | undefined {
  if (cluster.http2 !== true || engine === 'undici') return undefined;
  return `http2 needs engine 'undici' (engine '${engine}' speaks HTTP/1.1 only): remove http2 from the cluster or the engine option`;
}

/** An HTTP forwarder for one cluster and identity route, whichever engine it runs on. */
export interface HttpForwarder {
  /** Sends the prepared request to the cluster and streams the answer to `res`. */
  forward(req: IncomingMessage, res: ServerResponse, exchange: Exchange): void;
  /** Lets requests in flight finish, then closes the connections (a replaced configuration). */
  retire(): void;
  /** Destroys every connection now. */
  close(): Promise<void>;
}
