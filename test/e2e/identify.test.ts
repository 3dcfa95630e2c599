import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import type { ProxyEvent, ProxyResponseEvent, UpgradeEvent } from 'kube-cluster-proxy';
import { send, startProxyHost, type ProxyHost } from '../helpers/servers.ts';
import { execQuery, runChannelSession } from '../helpers/websocket.ts';

let fake: FakeCluster;
let host: ProxyHost;
const requests: ProxyEvent[] = [];
const responses: ProxyResponseEvent[] = [];
const upgrades: UpgradeEvent[] = [];

beforeAll(async () => {
  fake = await startFakeCluster({
    name: 'idf',
    tokens: {
      'alice-token': { user: 'alice', groups: ['devs'] },
      'bob-token': { user: 'bob', groups: ['contractors'] },
      'carol-token': 'carol',
      'svc-token': { user: 'dashboard', groups: ['system:masters'] },
    },
  });
  host = await startProxyHost({
    clusters: [
      { ...fake.clusterConfig('known'), identify: 'self-subject-review' },
      { ...fake.clusterConfig('plain') },
      { ...fake.clusterConfig('fallback', { token: 'svc-token' }), authMode: 'user-then-cluster', identify: 'self-subject-review' },
      {
        ...fake.clusterConfig('guarded'),
        identify: 'self-subject-review',
        policy: {
          deny: [
            { users: ['bob'], verbs: ['delete'], reason: 'bob may not delete here' },
            { groups: ['contractors'], resources: ['secrets'], reason: 'no secrets for contractors' },
          ],
        },
      },
    ],
    on: { proxyReq: (e) => requests.push(e), proxyRes: (e) => responses.push(e), upgrade: (e) => upgrades.push(e) },
  });
});
afterAll(async () => {
  await host.close();
  await fake.close();
});
beforeEach(() => {
  fake.clearRequests();
  requests.length = 0;
  responses.length = 0;
  upgrades.length = 0;
});

const REVIEW = '/apis/authentication.k8s.io/v1/selfsubjectreviews';
const reviews = () => fake.requests.filter((r) => r.path === REVIEW);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const PODS = '/api/v1/namespaces/default/pods';

describe("identify: 'self-subject-review'", () => {
  it('names the user and groups on events, from one review the cluster answered with the token', async () => {
    const res = await send(`${host.url}/clusters/known${PODS}`, { headers: bearer('alice-token') });
    expect(res.status).toBe(200);
    const alice = { name: 'alice', groups: ['devs', 'system:authenticated'], kind: 'user', source: 'self-subject-review' };
    expect(requests.at(-1)).toMatchObject({ cluster: 'known', identity: { kind: 'user', source: 'header' }, user: alice });
    expect(responses.at(-1)).toMatchObject({ statusCode: 200, user: alice });
    expect(reviews()).toHaveLength(1);
    expect(reviews()[0]).toMatchObject({ method: 'POST', user: 'alice' });
    // The request itself went on as the user, after the review.
    expect(fake.requests.map((r) => r.path)).toEqual([REVIEW, PODS]);
    expect(JSON.stringify([...requests, ...responses])).not.toContain('alice-token');
  });

  it('sends one review for 20 concurrent requests with one token, and none while the answer is kept', async () => {
    const all = await Promise.all(Array.from({ length: 20 }, () => send(`${host.url}/clusters/known${PODS}`, { headers: bearer('carol-token') })));
    expect(all.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(reviews()).toHaveLength(1);
    expect(new Set(requests.map((e) => e.user.name))).toEqual(new Set(['carol']));
    await send(`${host.url}/clusters/known/version`, { headers: bearer('carol-token') });
    expect(reviews()).toHaveLength(1);
  });

  it('lets a refused token through to the cluster, which answers 401, and never keeps it', async () => {
    const first = await send(`${host.url}/clusters/known${PODS}`, { headers: bearer('no-such-token') });
    expect(first.status).toBe(401);
    expect(first.json()).toMatchObject({ kind: 'Status', code: 401 });
    expect(responses.at(-1)).toMatchObject({ statusCode: 401, user: { name: undefined, groups: [], kind: 'user', source: 'unknown' } });
    expect((await send(`${host.url}/clusters/known${PODS}`, { headers: bearer('no-such-token') })).status).toBe(401);
    expect(reviews()).toHaveLength(2);
    expect(fake.requests.filter((r) => r.path === PODS)).toHaveLength(2);
  });

  it('asks nothing of a cluster without identify, nor for the cluster’s own credentials', async () => {
    expect((await send(`${host.url}/clusters/plain${PODS}`, { headers: bearer('alice-token') })).status).toBe(200);
    expect(requests.at(-1)?.user).toEqual({ name: undefined, groups: [], kind: 'user', source: 'unknown' });
    expect((await send(`${host.url}/clusters/fallback${PODS}`)).status).toBe(200);
    expect(requests.at(-1)?.user).toMatchObject({ name: 'fallback', source: 'cluster' });
    expect(reviews()).toHaveLength(0);
    expect((await send(`${host.url}/clusters/fallback${PODS}`, { headers: bearer('bob-token') })).status).toBe(200);
    expect(requests.at(-1)?.user).toMatchObject({ name: 'bob', source: 'self-subject-review' });
  });

  it('gives policy rules on users and groups the reviewed user; a denial never reaches the cluster', async () => {
    const del = await send(`${host.url}/clusters/guarded${PODS}/web-idf-1`, { method: 'DELETE', headers: bearer('bob-token') });
    expect(del.status).toBe(403);
    expect(del.json()).toMatchObject({ kind: 'Status', code: 403, message: expect.stringContaining('bob may not delete here') });
    const secrets = await send(`${host.url}/clusters/guarded/api/v1/namespaces/default/secrets`, { headers: bearer('bob-token') });
    expect(secrets.status).toBe(403);
    expect(secrets.json()).toMatchObject({ message: expect.stringContaining('no secrets for contractors') });
    // Only the review reached the cluster, once for both requests.
    expect(fake.requests.map((r) => r.path)).toEqual([REVIEW]);
    expect((await send(`${host.url}/clusters/guarded/api/v1/namespaces/default/secrets`, { headers: bearer('alice-token') })).status).toBe(200);
    expect((await send(`${host.url}/clusters/guarded${PODS}`, { headers: bearer('bob-token') })).status).toBe(200);
  });

  it('names the user of a WebSocket exec, on its open and close', async () => {
    const url = `${host.url.replace('http', 'ws')}/clusters/known${PODS}/web-idf-1/exec?${execQuery(['echo', 'hi'])}`;
    const result = await runChannelSession(url, ['v5.channel.k8s.io'], { headers: bearer('alice-token') });
    expect(result.ok).toBe(true);
    expect(upgrades.map((e) => [e.phase, e.user.name, e.user.source])).toEqual([
      ['open', 'alice', 'self-subject-review'],
      ['close', 'alice', 'self-subject-review'],
    ]);
  });
});
