import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as client from 'openid-client';
import { hasControlCharacter } from '../checks.ts';
import { SessionError, UnauthenticatedError } from '../errors.ts';
import type { createStateSealer } from './oauth-state.ts';
import { tokensFromGrant } from './provider-tokens.ts';
import type { SessionCookies } from './session-cookies.ts';
import { providerUnreachable, type SessionProvider } from './session-providers.ts';
import { sessionKeyOf, type SessionIdentity, type SessionStore } from './session-store.ts';

/** What {@link createLoginRoutes} works with. */
export interface LoginDependencies {
  providers: ReadonlyMap<string, SessionProvider>;
  sessions: SessionStore;
  cookies: SessionCookies;
  sealer: ReturnType<typeof createStateSealer>;
  redirectUri: URL;
  loginTimeoutSeconds: number;
  sessionTtlMs: number;
  now: () => number;
}

const RETURN_BASE = 'http://return-to.invalid';

/**
 * A path on this site to return to after the login; anything else (another site, `//host`,
 * control characters) becomes `/`. Percent-encoded as a URL would be, so that it fits a
 * `Location` header whatever the query held.
 */
export function safeReturnTo(value: string | null): string {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.includes('\\') || hasControlCharacter(value)) return '/';
  const url = new URL(value, RETURN_BASE);
  return url.origin === RETURN_BASE ? `${url.pathname}${url.search}${url.hash}` : '/';
}

/**
 * `GET /login` and `GET /callback`: the authorization code flow with PKCE, state and nonce. The
 * state is sealed into the `state` parameter (any replica can finish the login), bound to the
 * browser by the login cookie, and accepted once.
 */
export function createLoginRoutes(deps: LoginDependencies) {
  const { providers, sessions, cookies, sealer, redirectUri, now } = deps;

  async function login(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const providerName = query.get('provider') ?? 'default';
    const provider = providers.get(providerName);
    if (!provider) throw new SessionError(`no session provider is named "${providerName}"`);
    const verifier = client.randomPKCECodeVerifier();
    const state = await sealer.seal({ verifier, nonce: client.randomNonce(), returnTo: safeReturnTo(query.get('returnTo')), provider: provider.name });
    let configuration;
    try {
      configuration = await provider.client.configuration();
    } catch (error) {
      throw providerUnreachable(provider, error, 'discovery');
    }
    const url = client.buildAuthorizationUrl(configuration, {
      ...provider.loginParams,
      redirect_uri: redirectUri.href,
      scope: provider.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: state.sealed,
      nonce: state.nonce,
    });
    res.writeHead(302, {
      location: url.href,
      'cache-control': 'no-store',
      // Binds the login to this browser: a callback URL sent to someone else does not log them in.
      'set-cookie': cookies.loginState(req, state.jti, deps.loginTimeoutSeconds),
    });
    res.end();
  }

  async function callback(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const clearState = cookies.clearLoginState(req);
    const refuse = (message: string) => new SessionError(message, { headers: { 'set-cookie': clearState } });
    const providerError = query.get('error');
    if (providerError) {
      throw new UnauthenticatedError(`the identity provider refused the login: ${providerError.slice(0, 100)}`, { headers: { 'set-cookie': clearState } });
    }
    const sealed = query.get('state');
    if (!sealed || !query.get('code')) throw refuse('the callback lacks its code or state: start the login again');
    const state = await sealer.open(sealed);
    const provider = providers.get(state.provider);
    if (!provider) throw refuse('the login was for a provider that is no longer configured: start the login again');
    if (cookies.loginStateOf(req) !== state.jti) throw refuse('this login was started in another browser (or its cookie expired): start the login again');
    if (!(await sessions.claimLoginState(state.jti, deps.loginTimeoutSeconds * 1000))) throw refuse('this login callback was already used: start the login again');
    const current = new URL(redirectUri.href);
    current.search = query.toString();
    let answer;
    try {
      answer = await client.authorizationCodeGrant(await provider.client.configuration(), current, {
        pkceCodeVerifier: state.verifier,
        expectedState: sealed,
        expectedNonce: state.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      if (error instanceof client.ResponseBodyError) {
        throw new UnauthenticatedError(`the identity provider refused the login (${error.error}): start the login again`, { headers: { 'set-cookie': clearState } });
      }
      throw providerUnreachable(provider, error, 'login');
    }
    const claims = answer.claims();
    // A login with another provider joins the session the browser already has.
    const existingId = cookies.sessionOf(req).id;
    const existing = existingId ? await sessions.readIdentity(sessionKeyOf(existingId)) : undefined;
    const id = existing && existingId ? existingId : randomBytes(32).toString('base64url');
    const session = sessionKeyOf(id);
    const identity: SessionIdentity = existing ?? {
      sub: String(claims?.sub ?? ''),
      ...(typeof claims?.email === 'string' ? { email: claims.email } : {}),
      endsAt: now() + deps.sessionTtlMs,
    };
    await sessions.writeTokens(session, provider.name, tokensFromGrant(provider.forward, answer, now()), identity.endsAt);
    if (!existing) await sessions.writeIdentity(session, identity);
    res.writeHead(302, {
      location: state.returnTo,
      'cache-control': 'no-store',
      'set-cookie': [clearState, cookies.session(req, id, (identity.endsAt - now()) / 1000)],
    });
    res.end();
  }

  return { login, callback };
}
