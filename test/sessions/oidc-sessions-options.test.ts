import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, oidcSessions, type OidcSessionsOptions } from 'kube-cluster-proxy';
import { closeServer, listen } from '../helpers/servers.ts';

const valid: OidcSessionsOptions = {
  issuer: 'https://idp.example.com',
  clientId: 'dashboard',
  redirectUri: 'https://dash.example.com/auth/callback',
  secret: 'a-secret-of-at-least-32-characters!!',
};

describe('oidcSessions options', () => {
  it.each<[string, Partial<OidcSessionsOptions> & Record<string, unknown>, RegExp]>([
    ['no issuer', { issuer: undefined }, /issuer must be an http\(s\) URL/],
    ['a relative redirectUri', { redirectUri: '/auth/callback' }, /redirectUri must be an http\(s\) URL/],
    ['a short secret', { secret: 'short' }, /secret must be at least 32 characters/],
    ['no clientId', { clientId: '' }, /clientId is required/],
    ['scopes without openid', { scopes: ['email'] }, /scopes must be an array that includes 'openid'/],
    ['a bad forward', { forward: 'refresh_token' as never }, /forward must be 'id_token' or 'access_token'/],
    ['a negative refreshSkew', { refreshSkew: -1 }, /refreshSkew must be a non-negative number/],
    ['a bad cookie name', { cookieName: 'a b' }, /cookieName/],
    ['an incomplete store', { tokenStore: { get: () => Promise.resolve(undefined) } as never }, /tokenStore must implement/],
    ['a provider named default', { providers: { default: { issuer: 'https://x', clientId: 'y' } } }, /"default" is not a usable provider name/],
    ['a provider without issuer', { providers: { partner: { clientId: 'y' } as never } }, /providers\.partner\.issuer/],
    ['a misspelled option', { refreshskew: 1 }, /unknown option "refreshskew"; did you mean "refreshSkew"\?/],
  ])('refuses %s, naming the option', (_what, change, message) => {
    expect(() => oidcSessions({ ...valid, ...change })).toThrow(InvalidOptionError);
    expect(() => oidcSessions({ ...valid, ...change })).toThrow(message);
  });
});

describe('session cookies', () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (server) await closeServer(server);
  });

  async function logoutCookie(trustProxy: boolean, headers: Record<string, string>): Promise<string> {
    const sessions = oidcSessions({ ...valid, trustProxy });
    server = createServer((req, res) => sessions.router(req, res));
    const base = await listen(server);
    const res = await fetch(`${base}/logout`, { method: 'POST', headers });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ authenticated: false });
    sessions.close();
    return res.headers.getSetCookie()[0] ?? '';
  }

  it('are Secure behind a trusted X-Forwarded-Proto: https only', async () => {
    expect(await logoutCookie(true, { 'x-forwarded-proto': 'https' })).toMatch(/; Secure$/);
    await closeServer(server!);
    expect(await logoutCookie(false, { 'x-forwarded-proto': 'https' })).not.toMatch(/Secure/);
  });

  it('/me and unknown routes without a session', async () => {
    const sessions = oidcSessions(valid);
    server = createServer((req, res) => sessions.router(req, res));
    const base = await listen(server);
    expect(await (await fetch(`${base}/me`)).json()).toEqual({ authenticated: false });
    expect(await (await fetch(`${base}/me`, { headers: { cookie: 'cluster-session=garbage' } })).json()).toEqual({ authenticated: false });
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/logout`)).status).toBe(404); // logout is POST only
    sessions.close();
  });
});
