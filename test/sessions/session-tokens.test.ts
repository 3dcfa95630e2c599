import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterProxyError, memoryTokenStore, oidcSessions, type OidcSessions, type TokenStore } from 'kube-cluster-proxy';
import { sessionKeyOf, tokensKeyOf } from '../../src/sessions/session-store.ts';

const ID = 'B'.repeat(43);
const opened: OidcSessions[] = [];
afterEach(() => {
  for (const sessions of opened.splice(0)) sessions.close();
});

function sessionsOver(store: TokenStore): OidcSessions {
  const sessions = oidcSessions({
    issuer: 'https://idp.example.com',
    clientId: 'dashboard',
    redirectUri: 'https://dash.example.com/auth/callback',
    secret: 'a-secret-of-at-least-32-characters!!',
    tokenStore: store,
    providers: { partner: { issuer: 'https://partner.example', clientId: 'p', forward: 'access_token' } },
    logger: { warn: () => {}, error: () => {} },
  });
  opened.push(sessions);
  return sessions;
}

function request(cookie?: string): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  if (cookie !== undefined) req.headers.cookie = cookie;
  return req;
}

async function refusal(promise: Promise<unknown>): Promise<ClusterProxyError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof ClusterProxyError)) throw new Error(`expected a ClusterProxyError, got ${String(error)}`);
  return error;
}

/** A session as a login leaves it, with fresh tokens for `default`. */
async function loggedIn(store: TokenStore): Promise<string> {
  const session = sessionKeyOf(ID);
  const endsAt = Date.now() + 3600_000;
  await store.set(session, JSON.stringify({ sub: 'alice', endsAt }), 3600_000);
  await store.set(tokensKeyOf(session, 'default'), JSON.stringify({ idToken: 'id-token', accessToken: 'access-token', expiresAt: Date.now() + 600_000, obtainedAt: Date.now() }), 3600_000);
  return session;
}

describe('tokenFor', () => {
  it('answers the session token of the provider, and nothing without a cookie', async () => {
    const store = memoryTokenStore();
    const sessions = sessionsOver(store);
    const session = await loggedIn(store);
    expect(await sessions.tokenFor(request(`cluster-session=${ID}`))).toEqual({ token: 'id-token', session });
    expect(await sessions.tokenFor(request())).toBeUndefined();
    expect(await sessions.tokenFor(request('cluster-session='))).toBeUndefined();
    expect(await sessions.tokenFor(request('other=1'))).toBeUndefined();
  });

  it('answers 401, clearing the cookie, for a cookie that is no session id or whose session ended', async () => {
    const sessions = sessionsOver(memoryTokenStore());
    for (const cookie of ['cluster-session=short', `cluster-session=${ID}`, `cluster-session=${'!'.repeat(43)}`]) {
      const error = await refusal(sessions.tokenFor(request(cookie)));
      expect(error.statusCode).toBe(401);
      expect(error.message).toMatch(/log in again$/);
      expect(error.headers['set-cookie']).toMatch(/^cluster-session=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0$/);
    }
  });

  it('answers 401 saying where to log in for a provider the session has no login with', async () => {
    const store = memoryTokenStore();
    await loggedIn(store);
    const error = await refusal(sessionsOver(store).tokenFor(request(`cluster-session=${ID}`), 'partner'));
    expect(error.statusCode).toBe(401);
    expect(error.message).toMatch(/no login with the provider "partner" yet: log in at \/login\?provider=partner/);
  });

  it('answers 500 naming sessionProvider for a provider nobody configured: a server mistake, not the request', async () => {
    const store = memoryTokenStore();
    await loggedIn(store);
    const error = await refusal(sessionsOver(store).tokenFor(request(`cluster-session=${ID}`), 'nope'));
    expect(error.statusCode).toBe(500);
    expect(error.code).toBe('ERR_CLUSTER_MISCONFIGURED');
    expect(error.message).toMatch(/sessionProvider "nope", which the proxy's sessions do not know \(they know default, partner\)/);
  });

  it('answers 503 when the store fails, and ignores an unreadable entry as absent', async () => {
    const failing: TokenStore = { ...memoryTokenStore(), get: () => Promise.reject(new Error('ECONNRESET')) };
    const down = await refusal(sessionsOver(failing).tokenFor(request(`cluster-session=${ID}`)));
    expect(down.statusCode).toBe(503);
    expect(down.message).toMatch(/the session store is unavailable \(read\): ECONNRESET/);

    const store = memoryTokenStore();
    await store.set(sessionKeyOf(ID), '{not json', 60_000);
    expect((await refusal(sessionsOver(store).tokenFor(request(`cluster-session=${ID}`)))).statusCode).toBe(401);
  });
});
