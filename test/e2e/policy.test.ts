import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { parseRaw, send, sendRaw, startProxyHost, type ProxyHost } from '../helpers/servers.ts';
import { execQuery, runChannelSession } from '../helpers/websocket.ts';

let fake: FakeCluster;
let host: ProxyHost;
const events: { path: string; verb: string; user: string | undefined }[] = [];

beforeAll(async () => {
  fake = await startFakeCluster({ name: 'pol', tokens: { 'alice-token': 'alice', 'svc-token': 'svc' } });
  host = await startProxyHost({
    clusters: [
      { ...fake.clusterConfig('ro', { token: 'svc-token' }), policy: { readOnly: true } },
      { ...fake.clusterConfig('noexec'), policy: { deny: [{ resources: ['pods/exec', 'pods/attach', 'pods/portforward'], reason: 'no shells in prod: use the runbook' }] } },
      {
        ...fake.clusterConfig('ns', { token: 'svc-token' }),
        policy: { allow: [{ verbs: ['get', 'list', 'watch'], namespaces: ['default'] }, { nonResourceURLs: ['/version', '/api', '/api/*'] }] },
      },
      { ...fake.clusterConfig('free', { token: 'svc-token' }) },
    ],
    policy: { authorize: (request) => (request.isResourceRequest && request.resource === 'secrets' ? 'secrets are not shown through the dashboard' : true) },
    on: { proxyReq: (e) => void events.push({ path: e.path, verb: e.request.verb, user: e.user.name }) },
  });
});
afterAll(async () => {
  await host.close();
  await fake.close();
});
beforeEach(() => {
  fake.clearRequests();
  events.length = 0;
});

const alice = { authorization: 'Bearer alice-token' };
const EXEC = `/api/v1/namespaces/default/pods/web-pol-1/exec?${execQuery(['ls'])}`;

describe('policy', () => {
  it('readOnly lets reads through and denies writes with a 403 Status that never reaches the cluster', async () => {
    expect((await send(`${host.url}/clusters/ro/api/v1/namespaces/default/pods`)).status).toBe(200);
    expect((await send(`${host.url}/clusters/ro/version`)).status).toBe(200);
    fake.clearRequests();
    const del = await send(`${host.url}/clusters/ro/api/v1/namespaces/default/pods/web-pol-1`, { method: 'DELETE' });
    expect(del.status).toBe(403);
    expect(del.json()).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403, message: expect.stringMatching(/read-only/) });
    expect(del.headers['x-kube-cluster-proxy-error']).toBe('ERR_POLICY_DENIED');
    expect(fake.requests).toEqual([]);
  });

  it('readOnly denies exec over a WebSocket GET', async () => {
    const result = await runChannelSession(`${host.url.replace('http', 'ws')}/clusters/ro${EXEC}`, ['v5.channel.k8s.io']);
    expect(result).toMatchObject({ ok: false, status: 403 });
    expect(fake.requests).toEqual([]);
  });

  it('a deny rule on pods/exec stops WebSocket exec and SPDY exec alike, with its reason, and lets logs through', async () => {
    const ws = await runChannelSession(`${host.url.replace('http', 'ws')}/clusters/noexec${EXEC}`, ['v5.channel.k8s.io'], { headers: alice });
    expect(ws).toMatchObject({ ok: false, status: 403 });
    if (!ws.ok) expect(ws.body).toContain('no shells in prod: use the runbook');
    const spdy = parseRaw(
      await sendRaw(
        host.url,
        `POST /clusters/noexec${EXEC} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer alice-token\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n`,
      ),
    );
    expect(spdy.status).toBe(403);
    const forward = parseRaw(
      await sendRaw(host.url, 'POST /clusters/noexec/api/v1/namespaces/default/pods/web-pol-1/portforward HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer alice-token\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n'),
    );
    expect(forward.status).toBe(403);
    expect(fake.requests).toEqual([]);
    expect((await send(`${host.url}/clusters/noexec/api/v1/namespaces/default/pods/web-pol-1/log`, { headers: alice })).status).toBe(200);
  });

  it('allow rules admit only what they match', async () => {
    expect((await send(`${host.url}/clusters/ns/api/v1/namespaces/default/pods`)).status).toBe(200);
    expect((await send(`${host.url}/clusters/ns/api/v1/namespaces/kube-system/pods`)).status).toBe(403);
    expect((await send(`${host.url}/clusters/ns/version`)).status).toBe(200);
    expect((await send(`${host.url}/clusters/ns/apis`)).status).toBe(403);
  });

  it('the proxy-wide authorize applies to every cluster, on top of its own policy', async () => {
    const res = await send(`${host.url}/clusters/free/api/v1/namespaces/default/secrets`);
    expect(res.status).toBe(403);
    expect(res.json()).toMatchObject({ message: expect.stringContaining('secrets are not shown through the dashboard') });
    expect((await send(`${host.url}/clusters/free/api/v1/namespaces/default/pods`)).status).toBe(200);
  });

  it('hook events carry the request info and the user', async () => {
    await send(`${host.url}/clusters/free/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=1`);
    await send(`${host.url}/clusters/noexec/api/v1/namespaces/default/pods/web-pol-1`, { headers: alice });
    expect(events).toEqual([
      { path: '/api/v1/namespaces/default/pods', verb: 'watch', user: 'free' },
      { path: '/api/v1/namespaces/default/pods/web-pol-1', verb: 'get', user: undefined },
    ]);
  });
});
