import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** The session token for one request. */
export interface SessionToken {
  token: string;
  /** An opaque key of the session (not the cookie value), for tying connections to it. */
  session: string;
}

/**
 * What the proxy needs from a session component: `createClusterProxy({ sessions })`.
 * `oidcSessions()` is one; any object with these two methods can be another.
 */
export interface SessionTokenSource {
  /**
   * The token of the request's session for `provider` (a cluster's `sessionProvider`, else the
   * default one), refreshed when it is about to expire, or `undefined` when the request has no
   * session cookie.
   * @throws {ClusterProxyError} `401` when the session ended or holds no tokens for that provider,
   * `503` when the provider or the store is unreachable, `500` for a provider name it does not know
   * (a configuration mistake).
   */
  tokenFor(req: IncomingMessage, provider?: string): Promise<SessionToken | undefined>;
  /** Ties an upgraded connection to its session: it is closed when the session ends. */
  track(session: string, socket: Duplex): void;
  /** Optional: subscribes to token refreshes (the proxy relays them to the `sessionRefresh` hook); returns the unsubscribe. */
  onRefresh?(listener: (event: SessionRefreshEvent) => void): () => void;
}

/**
 * A refresh of a session's tokens at its provider: `'refreshed'`, `'ended'` (the provider refused
 * the refresh token, or there was none: the user must log in again) or `'failed'` (the provider or
 * the store could not be reached).
 */
export interface SessionRefreshEvent {
  provider: string;
  outcome: 'refreshed' | 'ended' | 'failed';
}
