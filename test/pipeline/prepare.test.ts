import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { bearerSubprotocol } from '../../src/credentials/bearer-subprotocol.ts';
import type { ClusterConfig } from '../../src/clusters/cluster-config.ts';
import { staticClusters } from '../../src/clusters/static-clusters.ts';
import { createDeadlines } from '../../src/forward/deadlines.ts';
import { createPrepare } from '../../src/pipeline/prepare.ts';
import { parseClusterPath } from '../../src/pipeline/route.ts';
import { createUpstreamRegistry } from '../../src/pipeline/upstreams.ts';
import { validatePolicy } from '../../src/policy/validate-policy.ts';
import { createTokenCache } from '../../src/tokens/cached-token.ts';
import { memoryTokenStore } from '../../src/tokens/memory-token-store.ts';

let fetched = 0;
const clusters: ClusterConfig[] = [
  { name: 'u', server: 'https://u.example:6443' },
  { name: 'c', server: 'https://c.example:6443/prefix', credentials: { token: 'cluster-token' }, impersonate: { user: 'robot' } },
  { name: 'g', server: 'https://g.example', credentials: { getToken: () => ((fetched += 1), Promise.resolve({ token: 'fetched-token' })) }, policy: { readOnly: true } },
  { name: 'b', server: 'https://b.example', credentials: { token: 'cluster-token' }, authMode: 'user-then-cluster' },
];

function pipeline() {
  const store = memoryTokenStore();
  const registry = createUpstreamRegistry(staticClusters(clusters), {
    tokenCache: createTokenCache(store, Date.now),
    tokenStore: store,
    now: Date.now,
    onError: () => {},
    logger: { warn: () => {}, error: () => {} },
    engine: 'undici',
    policy: validatePolicy({ deny: [{ resources: ['secrets'], reason: 'no secrets' }] }, 'policy'),
    observer: { response: () => {}, opened: () => {}, closed: () => {}, failure: () => {}, streamStarted: () => {} },
    deadlines: createDeadlines(),
  });
  const prepare = createPrepare(
    { tokenCookie: 'cluster-token', allowedOrigins: new Set(), sessions: undefined, upstreamTimeoutMs: 1_000, logger: { warn: () => {}, error: () => {} }, now: () => 42 },
    registry,
  );
  return { prepare, close: () => registry.close() };
}

/** A request as Node's parser hands it over, without a connection behind it. */
function request(method: string, target: string, headers: Record<string, string>, version = '1.1'): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.method = method;
  req.url = target;
  req.httpVersion = version;
  req.httpVersionMajor = Number(version.split('.')[0]);
  req.httpVersionMinor = Number(version.split('.')[1]);
  req.headers = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return req;
}

async function run(method: string, target: string, headers: Record<string, string> = {}, upgrade = false, version?: string) {
  const { prepare, close } = pipeline();
  const req = request(method, target, { host: 'dash.example', ...headers }, version);
  const before = structuredClone(req.headers);
  try {
    const prepared = await prepare(req, parseClusterPath(target, '/clusters')!, upgrade);
    expect(req.headers).toEqual(before); // the client's request is read, never changed
    return prepared;
  } finally {
    await close();
  }
}

describe('prepare', () => {
  it("forwards the user's token to a 'user' cluster, with the cluster's host and nothing of the client's connection", async () => {
    const { exchange } = await run('GET', '/clusters/u/api/v1/pods?watch=1', { authorization: 'Bearer user-token', cookie: 'a=b', connection: 'keep-alive, x-secret', 'x-secret': '1' });
    expect(exchange.headers).toEqual({ host: 'u.example:6443', authorization: 'Bearer user-token' });
    expect(exchange).toMatchObject({ identity: { kind: 'user', source: 'header' }, path: '/api/v1/pods?watch=1', streaming: true, startedAt: 42, credential: undefined });
    expect(exchange.request).toMatchObject({ verb: 'watch', resource: 'pods' });
  });

  it("uses the cluster's credentials and fixed impersonation, dropping the client's", async () => {
    const { exchange } = await run('POST', '/clusters/c/api/v1/namespaces/a/configmaps', {
      authorization: 'Bearer user-token',
      'impersonate-user': 'eve',
      'impersonate-group': 'system:masters',
      'content-length': '2',
    });
    expect(exchange.headers).toEqual({ host: 'c.example:6443', authorization: 'Bearer cluster-token', 'impersonate-user': 'robot', 'content-length': '2' });
    expect(exchange).toMatchObject({ identity: { kind: 'cluster', source: 'token' }, hasBody: true, user: { name: 'c', kind: 'cluster' } });
  });

  it('takes the token from the subprotocol and removes its entry', async () => {
    const { exchange } = await run(
      'GET',
      '/clusters/b/api/v1/namespaces/a/pods/p/exec?command=ls',
      { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-protocol': `${bearerSubprotocol('user-token')}, v5.channel.k8s.io` },
      true,
    );
    expect(exchange.headers).toMatchObject({ authorization: 'Bearer user-token', 'sec-websocket-protocol': 'v5.channel.k8s.io', connection: 'Upgrade', upgrade: 'websocket' });
    expect(exchange.identity).toEqual({ kind: 'user', source: 'subprotocol' });
  });

  it('decides the policy before any credential is fetched', async () => {
    fetched = 0;
    await expect(run('DELETE', '/clusters/g/api/v1/namespaces/a/pods/p')).rejects.toMatchObject({ code: 'ERR_POLICY_DENIED', statusCode: 403 });
    await expect(run('GET', '/clusters/g/api/v1/namespaces/a/secrets')).rejects.toThrow('no secrets');
    expect(fetched).toBe(0);
    await run('GET', '/clusters/g/api/v1/namespaces/a/pods');
    expect(fetched).toBe(1);
  });

  it.each([
    ['a method the API does not have', 'PROPFIND', '/clusters/c/api', {}, false, undefined, 'ERR_METHOD_NOT_ALLOWED'],
    ['HTTP/0.9', 'GET', '/clusters/c/version', {}, false, '0.9', 'ERR_BAD_REQUEST'],
    ['an upgrade to h2c', 'GET', '/clusters/c/version', { connection: 'Upgrade', upgrade: 'h2c' }, true, undefined, 'ERR_BAD_REQUEST'],
    ['an upgrade with a body', 'GET', '/clusters/c/version', { connection: 'Upgrade', upgrade: 'websocket', 'content-length': '5' }, true, undefined, 'ERR_BAD_REQUEST'],
    ["no token for a 'user' cluster", 'GET', '/clusters/u/version', {}, false, undefined, 'ERR_UNAUTHENTICATED'],
    ['a cookie from a foreign origin', 'GET', '/clusters/u/version', { cookie: 'cluster-token=t', origin: 'https://evil.example' }, false, undefined, 'ERR_ORIGIN_REJECTED'],
    ['an unknown cluster', 'GET', '/clusters/nope/version', {}, false, undefined, 'ERR_CLUSTER_NOT_FOUND'],
    ['a bad subprotocol entry', 'GET', '/clusters/c/version', { 'sec-websocket-protocol': 'v5 channel' }, false, undefined, 'ERR_BAD_REQUEST'],
  ] as const)('refuses %s', async (_what, method, target, headers, upgrade, version, code) => {
    await expect(run(method, target, headers, upgrade, version)).rejects.toMatchObject({ code });
  });

  it('refuses a body a parser already read, saying where to mount the proxy', async () => {
    const { prepare, close } = pipeline();
    const req = request('POST', '/clusters/c/api/v1/namespaces/a/configmaps', { host: 'x', 'content-length': '2' });
    req.push('{}');
    req.push(null);
    req.read();
    await expect(prepare(req, parseClusterPath(req.url!, '/clusters')!, false)).rejects.toMatchObject({ code: 'ERR_BODY_CONSUMED', message: expect.stringContaining('before express.json()') });
    await close();
  });
});
