import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import {
  bearerSubprotocol,
  createClusterProxy,
  memoryTokenStore,
  oidcSessions,
  type ClusterConfig,
  type ClusterProxy,
  type OidcSessions,
  type StreamEndEvent,
  type UpgradeEvent,
} from 'kube-cluster-proxy';
import { credentialExpiry, jwtExpiry, LIFETIME_GRACE_MS } from '../../src/lifecycle/credential-lifetime.ts';
import { Browser } from '../helpers/browser.ts';
import { startOidcProvider, type OidcProvider } from '../helpers/oidc-provider.ts';
import { closeServer, listen, startProxyHost, type ProxyHost } from '../helpers/servers.ts';
import { execQuery } from '../helpers/websocket.ts';

const PLUGIN = join(fileURLToPath(new URL('../fixtures/exec-plugins/', import.meta.url)), 'plugin.js');
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A JWT-shaped token (the fake authenticates it as a static token; its signature is not the point). */
const jwt = (payload: Record<string, unknown>) => `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(payload)}.c2lnbmF0dXJl`;

describe('jwtExpiry and credentialExpiry', () => {
  it('reads a numeric exp in milliseconds', () => {
    expect(jwtExpiry(jwt({ exp: 1_700_000_000 }))).toBe(1_700_000_000_000);
    expect(credentialExpiry(jwt({ exp: 2_000 }), { expiresAt: 1_000_000 })).toBe(1_000_000);
    expect(credentialExpiry(jwt({ exp: 500 }), { expiresAt: 1_000_000 })).toBe(500_000);
    expect(credentialExpiry('opaque', {})).toBeUndefined();
    expect(credentialExpiry(undefined, undefined)).toBeUndefined();
  });

  it.each([
    ['an opaque token', 'k8s-aws-v1.abc'],
    ['two parts', 'a.b'],
    ['four parts', 'a.b.c.d'],
    ['a payload that is not base64 JSON', 'a.%%%.c'],
    ['a payload that is JSON null', `a.${b64(null)}.c`],
    ['an exp that is a string', jwt({ exp: '1700000000' })],
    ['a negative exp', jwt({ exp: -5 })],
    ['no exp', jwt({ sub: 'x' })],
    ['an oversized payload', `a.${'A'.repeat(20_000)}.c`],
  ])('ignores %s', (_what, token) => {
    expect(jwtExpiry(token)).toBeUndefined();
  });
});

/** Polls every 20 ms for at most 5 s: the proxy's hook may run just after the client saw the close. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 250 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe("upgradeLifetime: 'credential'", () => {
  let fake: FakeCluster;
  let host: ProxyHost;
  const upgrades: UpgradeEvent[] = [];
  const streams: StreamEndEvent[] = [];
  let pluginExpiry = 0;

  beforeAll(async () => {
    fake = await startFakeCluster({ name: 'life', tokens: { 'svc-token': 'dashboard' } });
    pluginExpiry = Math.ceil(Date.now() / 1000) * 1000 + 5_000;
    const plugin = (expiresAt: number): ClusterConfig['credentials'] => ({
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1',
        command: process.execPath,
        args: [PLUGIN],
        env: [
          { name: 'PLUGIN_TOKENS', value: 'svc-token' },
          { name: 'PLUGIN_EXPIRATION', value: new Date(expiresAt).toISOString() },
        ],
      },
    });
    host = await startProxyHost({
      clusters: [
        { name: 'bound', server: fake.url, ca: fake.ca, upgradeLifetime: 'credential' },
        { name: 'free', server: fake.url, ca: fake.ca },
        { name: 'plugin', server: fake.url, ca: fake.ca, upgradeLifetime: 'credential', credentials: plugin(pluginExpiry) },
      ],
      on: { upgrade: (e) => upgrades.push(e), streamEnd: (e) => streams.push(e) },
    });
  });
  afterAll(async () => {
    await host.close();
    await fake.close();
  });

  function exec(cluster: string, token: string | undefined): Promise<{ closedAt: Promise<number> }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(
        `${host.url.replace('http', 'ws')}/clusters/${cluster}/api/v1/namespaces/default/pods/web-life-1/exec?${execQuery(['cat'], true)}`,
        [...(token ? [bearerSubprotocol(token)] : []), 'v5.channel.k8s.io'],
      );
      const closedAt = new Promise<number>((done) => ws.on('close', () => done(Date.now())));
      ws.on('open', () => resolve({ closedAt }));
      ws.on('error', reject);
    });
  }

  it('closes an exec and ends a watch once the token they were opened with expired, and leaves clusters without the option alone', async () => {
    const expSeconds = Math.ceil(Date.now() / 1000) + 3;
    const token = jwt({ sub: 'alice', exp: expSeconds });
    fake.addToken(token, 'alice');
    const bound = await exec('bound', token);
    const free = await exec('free', token);
    const watchEnded = new Promise<{ at: number; clean: boolean }>((resolve, reject) => {
      const req = request(`${host.url}/clusters/bound/api/v1/namespaces/default/pods?watch=1`, { headers: { authorization: `Bearer ${token}` } });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve({ at: Date.now(), clean: res.complete }));
      });
      req.on('error', reject);
      req.end();
    });
    const closedAt = await bound.closedAt;
    const late = closedAt - expSeconds * 1000;
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(1_000);
    const watch = await watchEnded;
    expect(watch.clean).toBe(true);
    expect(watch.at - expSeconds * 1000).toBeLessThan(1_000);
    await until(() => upgrades.some((e) => e.phase === 'close' && e.cluster === 'bound') && streams.some((e) => e.cluster === 'bound'));
    expect(upgrades.find((e) => e.phase === 'close' && e.cluster === 'bound')?.reason).toBe('lifetime');
    expect(streams.find((e) => e.cluster === 'bound')?.reason).toBe('lifetime');

    // Off by default: the same token's exec on the other cluster runs on.
    const stillOpen = await Promise.race([free.closedAt.then(() => false), new Promise((resolve) => setTimeout(() => resolve(true), LIFETIME_GRACE_MS + 1_000))]);
    expect(stillOpen).toBe(true);
    expect(upgrades.some((e) => e.phase === 'close' && e.cluster === 'free')).toBe(false);
  }, 15_000);

  it("closes an exec on the cluster's own exec-plugin credential at its expirationTimestamp", async () => {
    const session = await exec('plugin', undefined);
    const late = (await session.closedAt) - pluginExpiry;
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(1_000);
    await until(() => upgrades.some((e) => e.phase === 'close' && e.cluster === 'plugin'));
    expect(upgrades.find((e) => e.phase === 'close' && e.cluster === 'plugin')?.reason).toBe('lifetime');
  }, 15_000);

  it('refuses an unknown value, naming the option', async () => {
    await expect(
      startProxyHost({ clusters: [{ name: 'x', server: fake.url, upgradeLifetime: 'forever' as never }] }).then((h) => h.close()),
    ).rejects.toThrow(/upgradeLifetime must be 'credential' or 'unbounded'/);
  });
});

describe("upgradeLifetime: 'credential' with login sessions", () => {
  let server: Server;
  let base: string;
  let idp: OidcProvider;
  let fake: FakeCluster;
  let sessions: OidcSessions;
  let proxy: ClusterProxy;
  const upgrades: UpgradeEvent[] = [];

  beforeAll(async () => {
    server = createServer();
    base = await listen(server);
    idp = await startOidcProvider({ redirectUris: [`${base}/auth/callback`], idTokenTtl: 3 });
    fake = await startFakeCluster({ name: 'sso-life', oidc: { issuerUrl: idp.issuer, clientId: idp.clientId } });
    const tokenStore = memoryTokenStore();
    sessions = oidcSessions({
      issuer: idp.issuer,
      clientId: idp.clientId,
      clientSecret: idp.clientSecret,
      redirectUri: `${base}/auth/callback`,
      secret: 'a-secret-of-at-least-32-characters!!',
      tokenStore,
      scopes: ['openid', 'offline_access'],
      loginParams: { prompt: 'consent' },
    });
    proxy = createClusterProxy({
      clusters: [{ name: 'sso', server: fake.url, ca: fake.ca, upgradeLifetime: 'credential' }],
      sessions,
      tokenStore,
      on: { upgrade: (e) => upgrades.push(e) },
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
    await Promise.all([fake.close(), idp.close()]);
  });

  function sessionExec(browser: Browser): Promise<{ ws: WebSocket; closedAt: Promise<number> }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/clusters/sso/api/v1/namespaces/default/pods/web-sso-life-1/exec?${execQuery(['cat'], true)}`, ['v5.channel.k8s.io'], {
        headers: { cookie: browser.cookieHeader(base), origin: base },
      });
      const closedAt = new Promise<number>((done) => ws.on('close', () => done(Date.now())));
      ws.on('open', () => resolve({ ws, closedAt }));
      ws.on('error', reject);
    });
  }

  async function tokenExpiry(browser: Browser): Promise<number> {
    const me = (await (await browser.fetch(`${base}/auth/me`)).json()) as { expiresAt: string };
    return Date.parse(me.expiresAt);
  }

  it("closes an exec when the session token it was opened with expires, though the session was refreshed meanwhile; the refreshed token's exec runs on", async () => {
    const browser = new Browser();
    expect((await browser.login(`${base}/auth/login?returnTo=/`, 'alice')).callbackStatus).toBe(302);
    const firstExpiry = await tokenExpiry(browser);
    expect(firstExpiry - Date.now()).toBeLessThanOrEqual(3_000);
    const first = await sessionExec(browser);
    expect(fake.requests.at(-1)).toMatchObject({ user: 'alice', upgrade: true });

    // From now on the provider issues long-lived tokens: the next request past half the first
    // token's life refreshes the session.
    idp.idTokenTtl = 600;
    const grants = idp.refreshGrants;
    for (let i = 0; i < 100 && (await tokenExpiry(browser)) === firstExpiry; i++) {
      expect((await browser.fetch(`${base}/clusters/sso/version`)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(idp.refreshGrants).toBe(grants + 1);
    expect((await tokenExpiry(browser)) - firstExpiry).toBeGreaterThan(500_000);
    expect(Date.now()).toBeLessThan(firstExpiry);
    const second = await sessionExec(browser);

    const late = (await first.closedAt) - firstExpiry;
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(1_000);
    await until(() => upgrades.some((e) => e.phase === 'close'));
    expect(upgrades.filter((e) => e.phase === 'close').map((e) => e.reason)).toEqual(['lifetime']);

    // Opened with the refreshed token: still open well past the first token's expiry.
    const stillOpen = await Promise.race([second.closedAt.then(() => false), new Promise((resolve) => setTimeout(() => resolve(true), LIFETIME_GRACE_MS + 1_000))]);
    expect(stillOpen).toBe(true);
    second.ws.close();
    await second.closedAt;
  }, 20_000);
});
