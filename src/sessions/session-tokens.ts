import type { IncomingMessage } from 'node:http';
import * as client from 'openid-client';
import { ClusterProxyError, UnauthenticatedError } from '../errors.ts';
import { isInvalidGrant } from '../oidc/issuer-client.ts';
import type { createRefreshOnce } from '../tokens/refresh-once.ts';
import { forwardedToken, isFresh, tokensFromGrant } from './provider-tokens.ts';
import type { SessionCookies } from './session-cookies.ts';
import { providerUnreachable, type SessionProvider } from './session-providers.ts';
import { sessionKeyOf, tokensKeyOf, type ProviderTokens, type SessionStore } from './session-store.ts';
import type { SessionRefreshEvent } from '../hooks.ts';
import type { SessionTokenSource } from './session-token-source.ts';

/** What {@link createSessionTokens} works with. */
export interface SessionTokensDependencies {
  providers: ReadonlyMap<string, SessionProvider>;
  sessions: SessionStore;
  cookies: SessionCookies;
  refreshOnce: ReturnType<typeof createRefreshOnce>;
  /** Ends a session: its records and its connections. */
  endSession: (session: string) => Promise<void>;
  refreshSkewMs: number;
  now: () => number;
  /** Hears of each refresh this process made, and its outcome. */
  onRefresh?: ((event: SessionRefreshEvent) => void) | undefined;
}

/**
 * The session's token for each request, refreshed shortly before it expires: one refresh per
 * session and provider at a time, across every replica sharing the store (`refreshOnce`), the
 * others waiting for its result.
 */
export function createSessionTokens(deps: SessionTokensDependencies) {
  const { providers, sessions, cookies, now } = deps;

  /** A `401` that also clears the session cookie: the browser's session is gone. */
  const sessionEnded = (req: IncomingMessage, message: string) =>
    new UnauthenticatedError(`${message}: log in again`, { headers: { 'set-cookie': cookies.clearSession(req) } });

  async function refresh(session: string, provider: SessionProvider, req: IncomingMessage): Promise<ProviderTokens> {
    try {
      const next = await refreshTokens(session, provider, req);
      deps.onRefresh?.({ provider: provider.name, outcome: 'refreshed' });
      return next;
    } catch (error) {
      deps.onRefresh?.({ provider: provider.name, outcome: error instanceof UnauthenticatedError ? 'ended' : 'failed' });
      throw error;
    }
  }

  async function refreshTokens(session: string, provider: SessionProvider, req: IncomingMessage): Promise<ProviderTokens> {
    const identity = await sessions.readIdentity(session);
    const tokens = await sessions.readTokens(session, provider.name);
    if (!identity || !tokens) throw sessionEnded(req, 'your session has ended');
    if (!tokens.refreshToken) throw sessionEnded(req, 'your session expired and cannot be refreshed (the provider gave no refresh token)');
    let answer;
    try {
      answer = await client.refreshTokenGrant(await provider.client.configuration(), tokens.refreshToken);
    } catch (error) {
      if (isInvalidGrant(error)) {
        await deps.endSession(session);
        throw sessionEnded(req, 'the identity provider ended your session (invalid_grant)');
      }
      throw providerUnreachable(provider, error, 'refresh');
    }
    const next = tokensFromGrant(provider.forward, answer, now(), tokens);
    // The rotated refresh token is stored before anyone uses the new token: a replica that read
    // the old tokens meanwhile finds the new ones when it takes the lock.
    await sessions.writeTokens(session, provider.name, next, identity.endsAt);
    return next;
  }

  const tokenFor: SessionTokenSource['tokenFor'] = async (req, providerName = 'default') => {
    const cookie = cookies.sessionOf(req);
    if (!cookie.present) return undefined;
    if (!cookie.id) throw sessionEnded(req, 'the session cookie is not valid');
    const provider = providers.get(providerName);
    if (!provider) {
      // The server's configuration names it, not the request: a 500, naming what to fix.
      throw new ClusterProxyError(
        'ERR_CLUSTER_MISCONFIGURED',
        `a cluster names the sessionProvider "${providerName}", which the proxy's sessions do not know (they know ${[...providers.keys()].join(', ')}): ` +
          "fix the cluster's sessionProvider or add the provider to oidcSessions({ providers })",
      );
    }
    const session = sessionKeyOf(cookie.id);
    if (!(await sessions.readIdentity(session))) throw sessionEnded(req, 'your session has expired or ended');
    let tokens = await sessions.readTokens(session, provider.name);
    if (!tokens) {
      throw new UnauthenticatedError(`your session has no login with the provider "${provider.name}" yet: log in at /login?provider=${provider.name}`);
    }
    if (!isFresh(tokens, deps.refreshSkewMs, now())) {
      tokens = await deps.refreshOnce.run(
        tokensKeyOf(session, provider.name),
        async () => {
          const current = await sessions.readTokens(session, provider.name);
          return current && isFresh(current, deps.refreshSkewMs, now()) ? current : undefined;
        },
        () => refresh(session, provider, req),
      );
    }
    return { token: forwardedToken(tokens, provider.forward), session };
  };

  return { tokenFor };
}
