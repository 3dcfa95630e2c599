import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import type { ProxyEvent, ProxyResponseEvent } from 'kube-cluster-proxy';
import { send, startProxyHost, type ProxyHost } from '../helpers/servers.ts';

let userCluster: FakeCluster;
let ownCluster: FakeCluster;
let proxy: ProxyHost;
const requests: ProxyEvent[] = [];
const responses: ProxyResponseEvent[] = [];

beforeAll(async () => {
  userCluster = await startFakeCluster({ name: 'alpha', tokens: { 'alice-token': 'alice' } });
  ownCluster = await startFakeCluster({
    name: 'beta',
    tokens: { 'svc-token': { user: 'dashboard', groups: ['system:masters'] }, 'bob-token': 'bob' },
  });
  proxy = await startProxyHost({
    clusters: [
      { name: 'alpha', server: userCluster.url, ca: userCluster.ca },
      { name: 'beta', server: ownCluster.url, ca: ownCluster.ca, credentials: { token: 'svc-token' } },
      {
        name: 'gamma',
        server: ownCluster.url,
        ca: ownCluster.ca,
        credentials: { token: 'svc-token' },
        authMode: 'user-then-cluster',
      },
    ],
    on: { proxyReq: (e) => requests.push(e), proxyRes: (e) => responses.push(e) },
  });
});
afterAll(async () => {
  await proxy.close();
  await userCluster.close();
  await ownCluster.close();
});
beforeEach(() => {
  userCluster.clearRequests();
  ownCluster.clearRequests();
  requests.length = 0;
  responses.length = 0;
});

describe("authMode 'user' (no credentials)", () => {
  it("forwards the user's token, impersonation headers and the query; never cookies", async () => {
    const res = await send(`${proxy.url}/clusters/alpha/api/v1/namespaces/default/pods?labelSelector=app%3Dweb&limit=5`, {
      headers: {
        authorization: 'Bearer alice-token',
        cookie: 'dashboard-session=s3cret; cluster-token=other',
        'impersonate-user': 'carol',
        'x-custom': 'kept',
        'proxy-authorization': 'Basic eDp5',
      },
    });
    // The fake refuses impersonation by alice: proof that the header reached it as the user's.
    expect(res.status).toBe(403);
    const seen = userCluster.requests.at(-1)!;
    expect(seen.path).toBe('/api/v1/namespaces/default/pods?labelSelector=app%3Dweb&limit=5');
    expect(seen.headers.authorization).toBe('Bearer alice-token');
    expect(seen.headers['impersonate-user']).toBe('carol');
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers['proxy-authorization']).toBeUndefined();
    expect(seen.headers['x-custom']).toBe('kept');
    expect(seen.headers.host).toBe(new URL(userCluster.url).host);
  });

  it('lists pods as the user', async () => {
    const res = await send(`${proxy.url}/clusters/alpha/api/v1/namespaces/default/pods`, {
      headers: { authorization: 'Bearer alice-token' },
    });
    expect(res.status).toBe(200);
    expect((res.json() as { items: { metadata: { name: string } }[] }).items.map((p) => p.metadata.name)).toContain('web-alpha-1');
    expect(userCluster.requests.at(-1)!.user).toBe('alice');
    expect(requests.at(-1)).toEqual({
      cluster: 'alpha',
      identity: { kind: 'user', source: 'header' },
      method: 'GET',
      path: '/api/v1/namespaces/default/pods',
      upgrade: false,
      request: expect.objectContaining({ isResourceRequest: true, verb: 'list', resource: 'pods', namespace: 'default' }),
      user: { name: undefined, groups: [], kind: 'user', source: 'unknown' },
    });
    expect(responses.at(-1)).toMatchObject({ cluster: 'alpha', statusCode: 200 });
  });

  it('answers 401 without a token and never contacts the cluster', async () => {
    const res = await send(`${proxy.url}/clusters/alpha/api/v1/pods`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect(userCluster.requests).toHaveLength(0);
  });

  it("passes the cluster's own 401 for a bad user token through", async () => {
    const res = await send(`${proxy.url}/clusters/alpha/api/v1/pods`, { headers: { authorization: 'Bearer wrong' } });
    expect(res.status).toBe(401);
    expect(userCluster.requests).toHaveLength(1);
  });
});

describe("authMode 'cluster' (credentials)", () => {
  it("uses the cluster's token and removes the user's token, cookies and Impersonate-*", async () => {
    const res = await send(`${proxy.url}/clusters/beta/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer bob-token',
        cookie: 'cluster-token=bob-token',
        'impersonate-user': 'system:admin',
        'impersonate-group': 'system:masters',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }),
    });
    expect(res.status).toBe(201);
    expect(res.json()).toMatchObject({ status: { userInfo: { username: 'dashboard' } } });
    const seen = ownCluster.requests.at(-1)!;
    expect(seen.headers.authorization).toBe('Bearer svc-token');
    expect(Object.keys(seen.headers).filter((h) => h.startsWith('impersonate-'))).toEqual([]);
    expect(seen.headers.cookie).toBeUndefined();
    expect(requests.at(-1)?.identity).toEqual({ kind: 'cluster', source: 'token' });
  });

  it('forwards request bodies intact', async () => {
    const body = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', pad: 'x'.repeat(100_000) });
    const res = await send(`${proxy.url}/clusters/beta/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body,
    });
    expect(res.status).toBe(201);
  });
});

describe("authMode 'user-then-cluster'", () => {
  it("uses the user's token when present, keeping impersonation", async () => {
    await send(`${proxy.url}/clusters/gamma/version`, { headers: { authorization: 'Bearer bob-token', 'impersonate-user': 'x' } });
    const seen = ownCluster.requests.at(-1)!;
    expect(seen.headers.authorization).toBe('Bearer bob-token');
    expect(seen.headers['impersonate-user']).toBe('x');
  });

  it("falls back to the cluster's credentials, removing impersonation", async () => {
    await send(`${proxy.url}/clusters/gamma/version`, { headers: { 'impersonate-user': 'x' } });
    const seen = ownCluster.requests.at(-1)!;
    expect(seen.headers.authorization).toBe('Bearer svc-token');
    expect(seen.headers['impersonate-user']).toBeUndefined();
  });
});
