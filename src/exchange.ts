import type { IncomingMessage } from 'node:http';
import type { ValidatedCluster } from './clusters/cluster-config.ts';
import type { CredentialSource, ObtainedCredential } from './credentials/cluster-credentials.ts';
import type { RequestIdentity } from './options.ts';

/** One request on its way through the pipeline, once the cluster and identity are known. */
export interface Exchange {
  readonly cluster: ValidatedCluster;
  readonly identity: RequestIdentity;
  /** The cluster's credentials, when they were used: told about a `401`. */
  readonly credentials: CredentialSource | undefined;
  /** What `credentials` gave this request. */
  readonly credential: ObtainedCredential | undefined;
  readonly method: string;
  /** Upstream path relative to the server, with the query string. */
  readonly path: string;
  /** `path` without its query string. */
  readonly pathname: string;
  readonly upgrade: boolean;
  /** A watch or a followed log: no response timeout once headers arrive, none before either. */
  readonly streaming: boolean;
  readonly timeoutMs: number;
  /** `now()` when the proxy received the request. */
  readonly startedAt: number;
  /** The login session whose token the request carries, if any: upgrades are tied to it. */
  readonly session: string | undefined;
  /** The client asked to close its connection after this request (`Connection: close`). */
  readonly clientCloses: boolean;
}

// On the request itself rather than in a WeakMap: thousands of ephemeron entries a second make
// garbage collection pauses longer.
const EXCHANGE = Symbol('kube-cluster-proxy.exchange');

/** Ties an exchange to the client's request, for the forwarding events that only see the request. */
export function attachExchange(req: IncomingMessage, exchange: Exchange): void {
  (req as IncomingMessage & { [EXCHANGE]?: Exchange })[EXCHANGE] = exchange;
}

/** The exchange tied to a request by {@link attachExchange}. */
export function exchangeOf(req: IncomingMessage): Exchange | undefined {
  return (req as IncomingMessage & { [EXCHANGE]?: Exchange })[EXCHANGE];
}
