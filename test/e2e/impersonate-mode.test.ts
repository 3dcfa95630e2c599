import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { bearerSubprotocol } from 'kube-cluster-proxy';
import { startHungServer, type TestServer } from '../helpers/issuers.ts';
import { startOidcProvider, type OidcProvider } from '../helpers/oidc-provider.ts';
import { send, startProxyHost, type ProxyHost } from '../helpers/servers.ts';
import { execQuery, runChannelSession } from '../helpers/websocket.ts';

let idp: OidcProvider;
let fake: FakeCluster;
let host: ProxyHost;
let hung: TestServer;

beforeAll(async () => {
  idp = await startOidcProvider({ groups: { alice: ['dev', 'ops'] } });
  hung = await startHungServer();
  fake = await startFakeCluster({ name: 'imp', tokens: { 'proxy-sa': { user: 'system:serviceaccount:kube-system:proxy', groups: ['system:masters'] } } });
  host = await startProxyHost({
    clusters: [
      {
        name: 'prod',
        server: fake.url,
        ca: fake.ca,
        credentials: { token: 'proxy-sa' },
        authMode: 'impersonate',
        impersonation: { issuer: idp.issuer, audience: idp.clientId, usernamePrefix: 'oidc:', groupsPrefix: 'oidc:' },
      },
      {
        name: 'issuer-down',
        server: fake.url,
        ca: fake.ca,
        credentials: { token: 'proxy-sa' },
        authMode: 'impersonate',
        impersonation: { issuer: 'http://127.0.0.1:1', audience: 'x' },
      },
      {
        name: 'issuer-hung',
        server: fake.url,
        ca: fake.ca,
        credentials: { token: 'proxy-sa' },
        authMode: 'impersonate',
        impersonation: { issuer: hung.url, audience: 'x' },
      },
    ],
  });
});
afterAll(async () => {
  await host.close();
  await Promise.all([fake.close(), idp.close(), hung.close()]);
});
beforeEach(() => fake.clearRequests());

const review = (cluster: string, token?: string) =>
  send(`${host.url}/clusters/${cluster}/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}',
  });

describe("authMode 'impersonate'", () => {
  it('verifies the token, sends the cluster credentials and impersonates the mapped user and groups', async () => {
    const { idToken } = await idp.login('alice');
    const res = await review('prod', idToken);
    expect(res.status).toBe(201);
    expect(res.json()).toMatchObject({ status: { userInfo: { username: 'oidc:alice', groups: expect.arrayContaining(['oidc:dev', 'oidc:ops']) } } });
    const seen = fake.requests.at(-1)!;
    expect(seen.headers.authorization).toBe('Bearer proxy-sa');
    expect(JSON.stringify(seen.headers)).not.toContain(idToken);
  });

  it('ignores Impersonate-* headers sent by the client', async () => {
    const { idToken } = await idp.login('alice');
    await send(`${host.url}/clusters/prod/version`, { headers: { authorization: `Bearer ${idToken}`, 'impersonate-user': 'system:admin' } });
    expect(fake.requests.at(-1)!.headers['impersonate-user']).toBe('oidc:alice');
  });

  it('works for WebSocket exec with the token in the subprotocol', async () => {
    const { idToken } = await idp.login('bob');
    const result = await runChannelSession(
      `${host.url.replace('http', 'ws')}/clusters/prod/api/v1/namespaces/default/pods/web-imp-1/exec?${execQuery(['whoami'])}`,
      [bearerSubprotocol(idToken), 'v4.channel.k8s.io'],
    );
    expect(result.ok && result.session.output.get(1)).toBe('oidc:bob\n');
  });

  it.each<[string, () => Promise<string>, RegExp]>([
    ['an expired token', () => idp.sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 120 }), /has expired/],
    ['another audience', () => idp.sign({ sub: 'alice', aud: 'someone-else' }), /aud claim is not accepted/],
    ['another issuer', () => idp.sign({ sub: 'alice', iss: 'https://evil.example' }), /iss claim is not accepted/],
    ['a tampered token', async () => {
      const token = await idp.sign({ sub: 'alice' });
      const [head, body, signature] = token.split('.');
      const claims = JSON.parse(Buffer.from(body!, 'base64url').toString()) as Record<string, unknown>;
      return `${head}.${Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url')}.${signature}`;
    }, /not a valid token/],
    ['garbage', () => Promise.resolve('not-a-jwt'), /not a valid token/],
    ['no user claim', () => idp.sign({ sub: undefined }), /no "sub" claim/],
  ])('refuses %s with 401, without contacting the cluster', async (_what, make, message) => {
    const res = await review('prod', await make());
    expect(res.status).toBe(401);
    expect((res.json() as { message: string }).message).toMatch(message);
    expect(fake.requests).toHaveLength(0);
  });

  it('answers 401 without a token and 503 when the issuer keys cannot be fetched', async () => {
    expect((await review('prod')).status).toBe(401);
    const down = await review('issuer-down', await idp.sign({ sub: 'alice' }));
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBe('5');
    expect(fake.requests).toHaveLength(0);
  });

  it('answers 503 when the issuer accepts connections and never answers, after the default 10 s', async () => {
    const res = await review('issuer-hung', await idp.sign({ sub: 'alice' }));
    expect(res.status).toBe(503);
    expect((res.json() as { message: string }).message).toMatch(`${hung.url}/.well-known/openid-configuration did not answer within 10000 ms`);
    expect(fake.requests).toHaveLength(0);
  }, 20_000);
});
