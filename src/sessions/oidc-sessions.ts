import { createRefreshOnce } from '../tokens/refresh-once.ts';
import { createConnectionTracker } from './connection-tracker.ts';
import { createLoginRoutes } from './login-routes.ts';
import { createStateSealer } from './oauth-state.ts';
import type { OidcSessionsOptions } from './session-options.ts';
import { createSessionCookies } from './session-cookies.ts';
import { createSessionProviders } from './session-providers.ts';
import { createSessionRouter, type SessionRouter } from './session-router.ts';
import { createSessionRoutes } from './session-routes.ts';
import { sessionSettings } from './session-settings.ts';
import { createSessionStore } from './session-store.ts';
import type { SessionRefreshEvent } from '../hooks.ts';
import type { SessionTokenSource } from './session-token-source.ts';
import { createSessionTokens } from './session-tokens.ts';

export type { OidcProviderOptions, OidcSessionsOptions } from './session-options.ts';
export type { SessionRouter } from './session-router.ts';
// Re-exported for the modules that still import it from here; its home is session-token-source.ts.
export type { SessionConnection, SessionToken, SessionTokenSource } from './session-token-source.ts';

/** The OIDC session component. */
export interface OidcSessions extends SessionTokenSource {
  /** `GET /login?returnTo=&provider=`, `GET /callback`, `POST /logout`, `GET /me`. */
  readonly router: SessionRouter;
  /** The providers' names: `'default'` and those of `providers`. */
  readonly providers: readonly string[];
  /** Stops the background checks and ends the tracked connections (reason `'shutdown'`). */
  close(): void;
}

/**
 * Browser logins with OpenID Connect (authorization code + PKCE, state and nonce), with the
 * sessions server-side in a `TokenStore`: the cookie holds only a random 256-bit id, so no
 * header grows with the tokens. Plug it into the proxy with `createClusterProxy({ sessions })`:
 * `'user'` clusters then take the session's token, for HTTP and upgrades alike, refreshed shortly
 * before it expires, one refresh per session and provider across every replica sharing the store.
 * @throws {InvalidOptionError} for invalid options, naming them.
 */
export function oidcSessions(options: OidcSessionsOptions): OidcSessions {
  const settings = sessionSettings(options);
  const { store, logger, now } = settings;
  const providers = createSessionProviders(settings.providers);
  const providerNames = [...providers.keys()];
  const sessions = createSessionStore({ store, providerNames, logger, now });
  const cookies = createSessionCookies({ cookieName: settings.cookieName, callbackPath: settings.redirectUri.pathname, trustProxy: settings.trustProxy });
  const tracker = createConnectionTracker({
    exists: (session) => sessions.exists(session),
    checkIntervalMs: settings.logoutCheckIntervalMs,
    maxAgeMs: settings.maxConnectionAgeMs,
    // The store unreachable is not a logout; its outage shows in every request meanwhile.
    onError: () => {},
  });
  const endSession = async (session: string) => {
    await sessions.deleteSession(session);
    tracker.closeSession(session);
  };
  const refreshListeners = new Set<(event: SessionRefreshEvent) => void>();
  const { tokenFor } = createSessionTokens({
    onRefresh: (event) => {
      for (const listener of refreshListeners) listener(event);
    },
    providers,
    sessions,
    cookies,
    refreshOnce: createRefreshOnce(store),
    endSession,
    refreshSkewMs: settings.refreshSkewMs,
    now,
  });
  const { login, callback } = createLoginRoutes({
    providers,
    sessions,
    cookies,
    sealer: createStateSealer(settings.secret, settings.loginTimeoutSeconds, now),
    redirectUri: settings.redirectUri,
    loginTimeoutSeconds: settings.loginTimeoutSeconds,
    sessionTtlMs: settings.sessionTtlMs,
    now,
  });
  const { logout, me } = createSessionRoutes({ sessions, cookies, providerNames, endSession });
  const router = createSessionRouter(
    {
      'GET /login': login,
      'GET /callback': callback,
      'POST /logout': (req, res) => logout(req, res),
      'GET /me': (req, res) => me(req, res),
    },
    logger,
  );

  return {
    router,
    providers: providerNames,
    tokenFor,
    track: (session, connection) => tracker.track(session, connection),
    onRefresh: (listener) => {
      refreshListeners.add(listener);
      return () => void refreshListeners.delete(listener);
    },
    close: () => tracker.close(),
  };
}
