import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import express from 'express';
import WebSocket from 'ws';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import {
  createClusterProxy,
  memoryTokenStore,
  oidcSessions,
  type ClusterProxy,
  type OidcSessions,
  type StreamEndEvent,
  type TokenStore,
  type UpgradeEvent,
} from 'kube-cluster-proxy';
import { Browser } from '../helpers/browser.ts';
import { startOidcProvider, type OidcProvider } from '../helpers/oidc-provider.ts';
import { closeServer, listen } from '../helpers/servers.ts';
import { execQuery } from '../helpers/websocket.ts';

const SECRET = 'a-secret-of-at-least-32-characters!!';

let idp: OidcProvider;
let partnerIdp: OidcProvider;
let fake: FakeCluster;
let partnerCluster: FakeCluster;
let server: Server;
let base: string;
let proxy: ClusterProxy;
let sessions: OidcSessions;
let store: TokenStore;
let clockOffset = 0;
const upgrades: UpgradeEvent[] = [];
const streams: StreamEndEvent[] = [];

beforeAll(async () => {
  // The dashboard's port must be known before the provider registers its callback.
  server = createServer();
  base = await listen(server);
  idp = await startOidcProvider({ redirectUris: [`${base}/auth/callback`], idTokenTtl: 600 });
  partnerIdp = await startOidcProvider({ redirectUris: [`${base}/auth/callback`], clientId: 'partner-dashboard', idTokenTtl: 600 });
  fake = await startFakeCluster({ name: 'sso', oidc: { issuerUrl: idp.issuer, clientId: idp.clientId } });
  partnerCluster = await startFakeCluster({ name: 'partner', oidc: { issuerUrl: partnerIdp.issuer, clientId: partnerIdp.clientId, usernamePrefix: 'partner:' } });
  store = memoryTokenStore();
  sessions = oidcSessions({
    issuer: idp.issuer,
    clientId: idp.clientId,
    clientSecret: idp.clientSecret,
    redirectUri: `${base}/auth/callback`,
    secret: SECRET,
    tokenStore: store,
    scopes: ['openid', 'offline_access', 'groups'],
    loginParams: { prompt: 'consent' },
    logoutCheckIntervalMs: 100,
    now: () => Date.now() + clockOffset,
    providers: {
      partner: {
        issuer: partnerIdp.issuer,
        clientId: partnerIdp.clientId,
        clientSecret: partnerIdp.clientSecret,
        scopes: ['openid', 'offline_access'],
        loginParams: { prompt: 'consent' },
      },
    },
  });
  proxy = createClusterProxy({
    clusters: [
      { name: 'sso', server: fake.url, ca: fake.ca },
      { name: 'partner', server: partnerCluster.url, ca: partnerCluster.ca, sessionProvider: 'partner' },
    ],
    sessions,
    tokenStore: store,
    on: { upgrade: (e) => upgrades.push(e), streamEnd: (e) => streams.push(e) },
  });
  const app = express();
  app.use('/auth', sessions.router);
  app.use('/clusters', proxy);
  server.on('request', app);
  proxy.attach(server);
});
afterAll(async () => {
  sessions.close();
  await proxy.close();
  await closeServer(server);
  await Promise.all([fake.close(), idp.close(), partnerCluster.close(), partnerIdp.close().catch(() => {})]);
});
beforeEach(() => {
  clockOffset = 0;
  fake.clearRequests();
});

async function loggedIn(user = 'alice'): Promise<Browser> {
  const browser = new Browser();
  const { landedAt, callbackStatus } = await browser.login(`${base}/auth/login?returnTo=/clusters/sso/version`, user);
  expect(callbackStatus).toBe(302);
  expect(landedAt).toBe(`${base}/clusters/sso/version`);
  return browser;
}

describe('login', () => {
  it('logs in with the authorization code flow; the cookie holds only a random id; the cluster sees the user', async () => {
    const browser = await loggedIn('alice');
    const id = browser.cookies.get(new URL(base).host)?.get('cluster-session');
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const me = (await (await browser.fetch(`${base}/auth/me`)).json()) as Record<string, unknown>;
    expect(me).toMatchObject({ authenticated: true, sub: 'alice' });
    expect(Date.parse(me.expiresAt as string)).toBeGreaterThan(Date.now());
    const pods = await browser.fetch(`${base}/clusters/sso/api/v1/namespaces/default/pods`);
    expect(pods.status).toBe(200);
    expect(fake.requests.at(-1)).toMatchObject({ user: 'alice' });
    expect(fake.requests.at(-1)!.headers.cookie).toBeUndefined();
  });

  it('starts with PKCE, a nonce and a sealed state, and sets the session cookie HttpOnly, SameSite=Lax, Path=/', async () => {
    const browser = new Browser();
    const login = await browser.fetch(`${base}/auth/login`);
    expect(login.status).toBe(302);
    const authorize = new URL(login.headers.get('location')!);
    expect(authorize.origin + authorize.pathname).toBe(`${idp.issuer}/auth`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    // A JWE (five parts): the PKCE verifier inside cannot be read by anyone without the secret.
    expect(authorize.searchParams.get('state')!.split('.')).toHaveLength(5);
    const { callbackUrl } = await browser.login(`${base}/auth/login`, 'bob', { stopAtCallback: true });
    const callback = await browser.fetch(callbackUrl);
    expect(callback.status).toBe(302);
    const session = callback.headers.getSetCookie().find((c) => c.startsWith('cluster-session='))!;
    expect(session).toMatch(/^cluster-session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
  });

  it('refuses a forged state, a callback finished in another browser, and a replayed callback', async () => {
    const browser = new Browser();
    const { callbackUrl } = await browser.login(`${base}/auth/login`, 'carol', { stopAtCallback: true });
    const forged = new URL(callbackUrl);
    forged.searchParams.set('state', `${forged.searchParams.get('state')!.slice(0, -4)}AAAA`);
    const forgedRes = await browser.fetch(forged.href);
    expect(forgedRes.status).toBe(400);
    expect(((await forgedRes.json()) as { message: string }).message).toMatch(/login state is not valid/);

    const stranger = new Browser();
    const strangerRes = await stranger.fetch(callbackUrl);
    expect(strangerRes.status).toBe(400);
    expect(((await strangerRes.json()) as { message: string }).message).toMatch(/started in another browser/);

    const stateCookie = browser.cookieHeader(base);
    expect((await browser.fetch(callbackUrl)).status).toBe(302);
    // Someone who captured both the callback URL and the login cookie cannot use them again.
    const replay = await fetch(callbackUrl, { redirect: 'manual', headers: { cookie: stateCookie } });
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { message: string }).message).toMatch(/already used/);
  });

  it('never redirects to another site after the login', async () => {
    const browser = new Browser();
    const { landedAt } = await browser.login(`${base}/auth/login?returnTo=//evil.example/x`, 'dave');
    expect(landedAt).toBe(`${base}/`);
  });
});

describe('several providers', () => {
  it('one session holds tokens for each provider; a cluster gets the token of the provider it names', async () => {
    const browser = await loggedIn('judy');
    const id = browser.cookies.get(new URL(base).host)?.get('cluster-session');
    const before = await browser.fetch(`${base}/clusters/partner/version`);
    expect(before.status).toBe(401);
    expect(((await before.json()) as { message: string }).message).toMatch(/no login with the provider "partner" yet: log in at \/login\?provider=partner/);

    const start = await browser.fetch(`${base}/auth/login?provider=partner`);
    const authorize = new URL(start.headers.get('location')!);
    expect(authorize.origin).toBe(partnerIdp.issuer);
    expect(authorize.searchParams.get('scope')).toBe('openid offline_access');
    await start.body?.cancel();
    await browser.login(`${base}/auth/login?provider=partner&returnTo=/clusters/partner/version`, 'judy');
    expect(browser.cookies.get(new URL(base).host)?.get('cluster-session')).toBe(id);

    expect((await browser.fetch(`${base}/clusters/partner/api/v1/namespaces/default/pods`)).status).toBe(200);
    expect(partnerCluster.requests.at(-1)?.user).toBe('partner:judy');
    expect((await browser.fetch(`${base}/clusters/sso/api/v1/namespaces/default/pods`)).status).toBe(200);
    expect(fake.requests.at(-1)?.user).toBe('judy');
    const me = (await (await browser.fetch(`${base}/auth/me`)).json()) as { providers: Record<string, unknown> };
    expect(Object.keys(me.providers).sort()).toEqual(['default', 'partner']);
  });

  it('refuses an unknown provider', async () => {
    const res = await fetch(`${base}/auth/login?provider=nope`, { redirect: 'manual' });
    expect(res.status).toBe(400);
  });
});

describe('the proxy with sessions', () => {
  it('answers 401 for a forged or unknown session cookie, clearing it', async () => {
    const res = await fetch(`${base}/clusters/sso/version`, { headers: { cookie: `cluster-session=${'A'.repeat(43)}` } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/log in again/);
    expect(res.headers.getSetCookie()[0]).toMatch(/^cluster-session=; .*Max-Age=0/);
    const bad = await fetch(`${base}/clusters/sso/version`, { headers: { cookie: 'cluster-session=not-an-id' } });
    expect(bad.status).toBe(401);
    expect(fake.requests).toHaveLength(0);
  });

  it('refreshes once for 100 concurrent requests when the token nears expiry, and uses the rotated refresh token', async () => {
    const browser = await loggedIn('erin');
    const grantsBefore = idp.refreshGrants;
    try {
      // The session's clock jumps past its token's expiry; the new tokens outlive the jump.
      idp.idTokenTtl = 3600;
      clockOffset = 600_000;
      const results = await Promise.all(Array.from({ length: 100 }, () => browser.fetch(`${base}/clusters/sso/api/v1/namespaces/default/pods`)));
      expect(results.map((r) => r.status)).toEqual(Array(100).fill(200));
      expect(idp.refreshGrants - grantsBefore).toBe(1);
      idp.idTokenTtl = 7200;
      clockOffset = 3_600_000;
      expect((await browser.fetch(`${base}/clusters/sso/version`)).status).toBe(200);
      expect(idp.refreshGrants - grantsBefore).toBe(2); // the rotated token worked: no invalid_grant
    } finally {
      idp.idTokenTtl = 600;
    }
  });

  it('does not refresh on every request when tokens live shorter than refreshSkew', async () => {
    idp.idTokenTtl = 20; // 20 s tokens, refreshSkew 60 s
    try {
      const browser = await loggedIn('frank');
      const grantsBefore = idp.refreshGrants;
      for (let i = 0; i < 5; i++) expect((await browser.fetch(`${base}/clusters/sso/version`)).status).toBe(200);
      expect(idp.refreshGrants).toBe(grantsBefore);
    } finally {
      idp.idTokenTtl = 600;
    }
  });

  it('ends the session with 401 when the provider refuses the refresh (invalid_grant)', async () => {
    const browser = await loggedIn('grace');
    const id = browser.cookies.get(new URL(base).host)!.get('cluster-session')!;
    const session = `session:${createHash('sha256').update(id).digest('base64url')}`;
    const record = JSON.parse((await store.get(`${session}:tokens:default`))!) as { refreshToken: string };
    expect(record.refreshToken).toBeTruthy();
    await idp.revoke(record.refreshToken);
    clockOffset = 600_000;
    const res = await browser.fetch(`${base}/clusters/sso/version`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/ended your session \(invalid_grant\): log in again/);
    expect((await (await browser.fetch(`${base}/auth/me`)).json()) as object).toEqual({ authenticated: false });
  });

  it("ties exec WebSockets and HTTP watches to the session: logout ends them within a second, hooks see 'logout', other sessions keep theirs", async () => {
    const browser = await loggedIn('heidi');
    const other = await loggedIn('judy');
    const exec = (who: Browser) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/clusters/sso/api/v1/namespaces/default/pods/web-sso-1/exec?${execQuery(['cat'], true)}`, ['v4.channel.k8s.io'], {
        headers: { cookie: who.cookieHeader(base), origin: base },
      });
      const closed = new Promise<number>((resolve) => ws.once('close', () => resolve(performance.now())));
      return new Promise<{ ws: WebSocket; closed: Promise<number> }>((resolve, reject) => {
        ws.once('open', () => resolve({ ws, closed }));
        ws.once('error', reject);
      });
    };
    const mine = await exec(browser);
    expect(fake.requests.at(-1)).toMatchObject({ user: 'heidi', upgrade: true });
    const theirs = await exec(other);
    const watch = await browser.fetch(`${base}/clusters/sso/api/v1/namespaces/default/pods?watch=1`);
    expect(watch.status).toBe(200);
    // The body ends cleanly (done), as a watch the cluster closed: the client re-watches, and gets 401.
    const watchEnded = (async () => {
      const reader = watch.body!.getReader();
      for (let i = 0; i < 1_000; i++) if ((await reader.read()).done) return performance.now();
      throw new Error('the watch kept streaming');
    })();
    await expect.poll(() => fake.activeStreams('watch')).toBeGreaterThan(0);
    const before = { upgrades: upgrades.length, streams: streams.length };

    const started = performance.now();
    const logout = await browser.fetch(`${base}/auth/logout`, { method: 'POST' });
    expect(logout.status).toBe(200);
    expect((await mine.closed) - started).toBeLessThan(1_000);
    expect((await watchEnded) - started).toBeLessThan(1_000);
    expect((await browser.fetch(`${base}/clusters/sso/version`)).status).toBe(401);

    await expect.poll(() => upgrades.slice(before.upgrades).filter((e) => e.phase === 'close').length).toBe(1);
    expect(upgrades.slice(before.upgrades).find((e) => e.phase === 'close')).toMatchObject({ cluster: 'sso', identity: { kind: 'user', source: 'session' }, reason: 'logout' });
    await expect.poll(() => streams.length).toBe(before.streams + 1);
    expect(streams.at(-1)).toMatchObject({ cluster: 'sso', identity: { kind: 'user', source: 'session' }, reason: 'logout' });
    // Judy's exec is still open and answers.
    const echoed = new Promise<string>((resolve) => theirs.ws.once('message', (data: Buffer) => resolve(data.subarray(1).toString())));
    theirs.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('still here')]));
    expect(await echoed).toBe('still here');
    theirs.ws.close();
    await theirs.closed;
  });

  it('refuses a session-cookie WebSocket from a foreign origin', async () => {
    const browser = await loggedIn('ivan');
    const res = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/clusters/sso/api/v1/namespaces/default/pods/web-sso-1/exec?${execQuery(['ls'])}`, ['v4.channel.k8s.io'], {
        headers: { cookie: browser.cookieHeader(base), origin: 'https://evil.example' },
      });
      ws.on('unexpected-response', (_req, response) => resolve(response.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => {});
    });
    expect(res).toBe(403);
  });
});

describe('the identity provider down', () => {
  it('answers 503 with Retry-After and keeps the session', async () => {
    const browser = await loggedIn('kim');
    await browser.login(`${base}/auth/login?provider=partner`, 'kim');
    await partnerIdp.close();
    clockOffset = 600_000; // the partner token needs refreshing, and its provider is gone
    const res = await browser.fetch(`${base}/clusters/partner/version`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(((await res.json()) as { message: string }).message).toMatch(new RegExp(`identity provider ${partnerIdp.issuer} is unreachable`));
    clockOffset = 0;
    expect((await (await browser.fetch(`${base}/auth/me`)).json()) as object).toMatchObject({ authenticated: true, sub: 'kim' });
  });
});
