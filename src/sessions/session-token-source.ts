import type { IncomingMessage } from 'node:http';
import type { CloseReason, SessionRefreshEvent } from '../hooks.ts';

/** The session token for one request. */
export interface SessionToken {
  token: string;
  /** An opaque key of the session (not the cookie value), for tying connections to it. */
  session: string;
}

/**
 * A long-lived connection (an upgrade, or an HTTP watch or followed log) the proxy ties to the
 * session it was opened with.
 */
export interface SessionConnection {
  /**
   * Ends it; hooks see `reason` (`'logout'` when the session ended). Calling it again, or after the
   * connection closed, does nothing.
   */
  end(reason: CloseReason): void;
  /** Calls `listener` once when the connection closed, whoever closed it. */
  onClose(listener: () => void): void;
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
  /** Ties a long-lived connection to its session: the component ends it when the session ends. */
  track(session: string, connection: SessionConnection): void;
  /** Optional: subscribes to token refreshes (the proxy relays them to the `sessionRefresh` hook); returns the unsubscribe. */
  onRefresh?(listener: (event: SessionRefreshEvent) => void): () => void;
}
