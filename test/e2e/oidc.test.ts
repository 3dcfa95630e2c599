import { createServer } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bearerSubprotocol, type ClusterConfig } from 'kube-cluster-proxy';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { startOidcProvider, type OidcProvider } from '../helpers/oidc-provider.ts';
import { closeServer, listen, send, startProxyHost, type ProxyHost } from '../helpers/servers.ts';
import { execQuery, runChannelSession } from '../helpers/websocket.ts';

let idp: OidcProvider;
let fake: FakeCluster;
const hosts: ProxyHost[] = [];

beforeAll(async () => {
  idp = await startOidcProvider();
  fake = await startFakeCluster({ name: 'oidc', oidc: { issuerUrl: idp.issuer, clientId: idp.clientId } });
});
afterAll(async () => {
  await fake.close();
  await idp.close();
});
beforeEach(() => {
  fake.clearRequests();
  idp.idTokenTtl = 300;
});
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

type OidcConfig = Extract<NonNullable<ClusterConfig['credentials']>, { oidc: unknown }>['oidc'];

async function proxyFor(oidc: Partial<OidcConfig>, cluster: Partial<ClusterConfig> = {}): Promise<ProxyHost> {
  const host = await startProxyHost({
    clusters: [
      {
        name: 'c',
        server: fake.url,
        ca: fake.ca,
        credentials: { oidc: { issuerUrl: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, ...oidc } },
        ...cluster,
      },
    ],
  });
  hosts.push(host);
  return host;
}

/**
 * A login whose id-token expires within client-go's 10 s margin, so the proxy must refresh it
 * (the fake would still accept it: no waiting for a real expiry).
 */
async function loginExpiring(user: string) {
  idp.idTokenTtl = 9;
  const tokens = await idp.login(user);
  idp.idTokenTtl = 300;
  return tokens;
}

async function whoami(host: ProxyHost, cluster = 'c') {
  const res = await send(`${host.url}/clusters/${cluster}/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}',
  });
  const body = res.json() as { message?: string; status?: { userInfo?: { username?: string } } };
  return { status: res.status, user: body.status?.userInfo?.username, message: body.message };
}

describe('cluster credentials { oidc }', () => {
  it('sends a valid id-token as it is, without a refresh', async () => {
    const { idToken, refreshToken } = await idp.login('alice');
    const grants = idp.refreshGrants;
    const host = await proxyFor({ idToken, refreshToken });
    expect(await whoami(host)).toMatchObject({ status: 201, user: 'alice' });
    expect(idp.refreshGrants).toBe(grants);
    expect(fake.requests[0]?.headers.authorization).toBe(`Bearer ${idToken}`);
  });

  it('refreshes an expiring id-token once for 200 concurrent requests, HTTP and upgrades', async () => {
    const { idToken, refreshToken } = await loginExpiring('alice');
    const grants = idp.refreshGrants;
    const host = await proxyFor({ idToken, refreshToken });
    const http = Array.from({ length: 190 }, () => send(`${host.url}/clusters/c/api/v1/namespaces/default/pods`));
    const ws = Array.from({ length: 10 }, () =>
      runChannelSession(`${host.url.replace('http', 'ws')}/clusters/c/api/v1/namespaces/default/pods/web-oidc-1/exec?${execQuery(['whoami'])}`, [
        'v4.channel.k8s.io',
      ]),
    );
    const [responses, sessions] = await Promise.all([Promise.all(http), Promise.all(ws)]);
    expect(idp.refreshGrants - grants).toBe(1);
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
    expect(sessions.every((s) => s.ok && s.session.output.get(1) === 'alice\n')).toBe(true);
    expect(fake.requests.every((r) => r.user === 'alice' && r.headers.authorization !== `Bearer ${idToken}`)).toBe(true);
  });

  it('uses the rotated refresh-token for the next refresh; the issuer refuses the spent one', async () => {
    const { idToken, refreshToken } = await loginExpiring('alice');
    // Refreshed id-tokens expire within the margin too: every request refreshes.
    idp.idTokenTtl = 9;
    const grants = idp.refreshGrants;
    const host = await proxyFor({ idToken, refreshToken });
    expect(await whoami(host)).toMatchObject({ status: 201, user: 'alice' });
    expect(await whoami(host)).toMatchObject({ status: 201, user: 'alice' });
    expect(idp.refreshGrants - grants).toBe(2);
    expect(await idp.refresh(refreshToken)).toMatchObject({ ok: false, error: 'invalid_grant' });
  });

  it('treats a malformed id-token as expired', async () => {
    const { refreshToken } = await idp.login('alice');
    const grants = idp.refreshGrants;
    const host = await proxyFor({ idToken: 'not-a-jwt', refreshToken });
    expect(await whoami(host)).toMatchObject({ status: 201, user: 'alice' });
    expect(idp.refreshGrants - grants).toBe(1);
  });

  it('refreshes after the cluster refused the id-token', async () => {
    const { refreshToken } = await idp.login('alice');
    const refused = await idp.sign({ sub: 'alice', aud: 'another-client' });
    const host = await proxyFor({ idToken: refused, refreshToken });
    expect((await whoami(host)).status).toBe(401);
    expect(await whoami(host)).toMatchObject({ status: 201, user: 'alice' });
  });

  it('answers 401 with a login hint when there is no valid id-token and no refresh-token; the cluster is not contacted', async () => {
    const { idToken } = await loginExpiring('alice');
    const host = await proxyFor({ idToken });
    const answer = await whoami(host);
    expect(answer.status).toBe(401);
    expect(answer.message).toMatch(/^cluster "c": No valid id-token, and cannot refresh without refresh-token: .*log in again/);
    expect(fake.requests).toHaveLength(0);
  });

  it('answers 401 when the issuer refuses the refresh-token (revoked), and stops asking it', async () => {
    const { idToken, refreshToken } = await loginExpiring('alice');
    await idp.revoke(refreshToken);
    const grants = idp.refreshGrants;
    const host = await proxyFor({ idToken, refreshToken });
    for (let i = 0; i < 2; i++) {
      const answer = await whoami(host);
      expect(answer.status).toBe(401);
      expect(answer.message).toMatch(/invalid_grant.*log in again/);
      expect(answer.message).not.toContain(refreshToken);
    }
    expect(idp.refreshGrants - grants).toBe(1);
    expect(fake.requests).toHaveLength(0);
  });

  it('answers 503 naming the issuer when it cannot be reached', async () => {
    const down = createServer();
    const issuerUrl = await listen(down);
    await closeServer(down);
    const host = await proxyFor({ issuerUrl, refreshToken: 'any' });
    const answer = await whoami(host);
    expect(answer.status).toBe(503);
    expect(answer.message).toContain(`the OIDC issuer ${issuerUrl} could not be discovered`);
  });
});

describe('an OIDC cluster in user-then-cluster mode without tokens of its own', () => {
  const cluster = (): ClusterConfig => ({
    name: 'oidc-ctx',
    server: fake.url,
    ca: fake.ca,
    credentials: { oidc: { issuerUrl: idp.issuer, clientId: idp.clientId } },
    authMode: 'user-then-cluster',
  });
  const execUrl = (host: ProxyHost) =>
    `${host.url.replace('http', 'ws')}/clusters/oidc-ctx/api/v1/namespaces/default/pods/web-oidc-1/exec?${execQuery(['whoami'])}`;

  it("runs a WebSocket exec with the user's id-token from the subprotocol, without a refresh", async () => {
    const { idToken } = await idp.login('alice');
    const grants = idp.refreshGrants;
    const host = await startProxyHost({ clusters: [cluster()] });
    hosts.push(host);
    const result = await runChannelSession(execUrl(host), [
      bearerSubprotocol(idToken),
      'v4.channel.k8s.io',
    ]);
    expect(result.ok && result.session.output.get(1)).toBe('alice\n');
    expect(idp.refreshGrants).toBe(grants);
  });

  it('answers a WebSocket exec without a token with 401 and the login hint, not 502', async () => {
    const host = await startProxyHost({ clusters: [cluster()] });
    hosts.push(host);
    const result = await runChannelSession(execUrl(host), ['v4.channel.k8s.io']);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.status).toBe(401);
    expect((JSON.parse(result.body) as { message: string }).message).toMatch(/log in again .* or send your own bearer token/);
    expect(fake.requests).toHaveLength(0);
  });
});
