import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerSubprotocol, kubeconfigClusters, memoryTokenStore, type ClusterProxyOptions } from 'kube-cluster-proxy';
import { redisTokenStore } from 'kube-cluster-proxy/redis';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { checkReadiness, CHECK_TIMEOUT_MS } from '../../src/lifecycle/readiness.ts';
import { connectRedis, KEY } from '../redis/redis-helpers.ts';
import { redisSkipReason, startRedisServer } from '../helpers/redis-server.ts';
import { send, startProxyHost, type ProxyHost } from '../helpers/servers.ts';
import { execQuery } from '../helpers/websocket.ts';

const TOKEN = 'probe-token';
let fake: FakeCluster;

beforeAll(async () => {
  fake = await startFakeCluster({ name: 'probe', tokens: { [TOKEN]: 'alice' } });
});
afterAll(() => fake.close());

/** A host with the probes mounted the way the docs show: `app.get('/readyz', proxy.readiness)`. */
async function probed(options: Partial<ClusterProxyOptions> = {}): Promise<ProxyHost & { ready(): Promise<{ status: number; body: unknown }> }> {
  const host = await startProxyHost({ clusters: [{ name: 'c', server: fake.url, ca: fake.ca }], ...options }, 'node-http');
  const listeners = host.server.listeners('request') as ((req: unknown, res: unknown) => void)[];
  host.server.removeAllListeners('request');
  host.server.on('request', (req: { url?: string }, res) => {
    if (req.url === '/readyz') host.proxy.readiness(req as never, res);
    else if (req.url === '/livez') host.proxy.liveness(req as never, res);
    else for (const listener of listeners) listener(req, res);
  });
  return Object.assign(host, {
    async ready() {
      const response = await send(`${host.url}/readyz`);
      return { status: response.status, body: response.json() };
    },
  });
}

/** A kubeconfig with one context per `[name, server]`; a context without a server names a cluster the file lacks. */
function kubeconfig(contexts: [string, string | undefined][]): string {
  const clusters = contexts.filter(([, server]) => server).map(([name, server]) => `  - { name: ${name}, cluster: { server: "${server}", insecure-skip-tls-verify: true } }`);
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    ...clusters,
    'users: [{ name: u, user: { token: probe-token } }]',
    'contexts:',
    ...contexts.map(([name, server]) => `  - { name: ${name}, context: { cluster: ${server ? name : 'nowhere'}, user: u } }`),
    `current-context: ${contexts[0]![0]}`,
    '',
  ].join('\n');
}

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > end) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('proxy.readiness and proxy.liveness', () => {
  it('is ready with a reachable store and a loaded resolver, and not while draining; liveness stays 200', async () => {
    const host = await probed();
    expect(await host.ready()).toEqual({ status: 200, body: { ready: true, checks: { draining: 'ok', tokenStore: 'ok', resolver: 'ok' } } });
    const live = await send(`${host.url}/livez`);
    expect(live.status).toBe(200);
    // An exec keeps the drain going for its grace.
    const ws = new WebSocket(`${host.url.replace('http', 'ws')}/clusters/c/api/v1/namespaces/default/pods/web-probe-1/exec?${execQuery(['cat'], true)}`, [
      bearerSubprotocol(TOKEN),
      'v5.channel.k8s.io',
    ]);
    await new Promise((resolve, reject) => ws.on('open', resolve).on('error', reject));
    const drained = host.proxy.drain({ graceMs: 3_000 });
    expect(await host.ready()).toEqual({ status: 503, body: { ready: false, checks: { draining: 'draining', tokenStore: 'ok', resolver: 'ok' } } });
    expect((await send(`${host.url}/livez`)).status).toBe(200);
    await host.proxy.close();
    await drained;
    await host.close();
  });

  it('is not ready while the kubeconfig no longer parses, and ready again once it does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kcp-ready-'));
    const file = join(dir, 'config');
    const good = [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{ name: fake, cluster: { server: "' + fake.url + '" } }]',
      'users: [{ name: u, user: {} }]',
      'contexts: [{ name: c, context: { cluster: fake, user: u } }]',
      'current-context: c',
      '',
    ].join('\n');
    await writeFile(file, good);
    const host = await probed({ clusters: kubeconfigClusters({ paths: [file], watch: true, debounceMs: 20 }), on: { resolverError: () => {} } });
    try {
      expect((await host.ready()).status).toBe(200);
      await writeFile(file, 'clusters: [ { name: broken\n  - : :');
      const broken = await until(() => host.ready(), (r) => r.status === 503);
      expect(broken.status).toBe(503);
      expect(broken.body).toMatchObject({ ready: false, checks: { draining: 'ok', tokenStore: 'ok', resolver: expect.stringMatching(/^error: /) } });
      await writeFile(file, good);
      expect((await until(() => host.ready(), (r) => r.status === 200)).status).toBe(200);
    } finally {
      await host.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is not ready while no kubeconfig file exists, and ready once one is written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kcp-ready-'));
    const file = join(dir, 'config');
    const host = await probed({ clusters: kubeconfigClusters({ paths: [file], watch: true, debounceMs: 20 }), on: { resolverError: () => {} } });
    try {
      const missing = await until(() => host.ready(), (r) => r.status === 503);
      expect(missing).toEqual({ status: 503, body: { ready: false, checks: { draining: 'ok', tokenStore: 'ok', resolver: expect.stringContaining(file) } } });
      await writeFile(file, kubeconfig([['c', fake.url]]));
      expect((await until(() => host.ready(), (r) => r.status === 200)).status).toBe(200);
    } finally {
      await host.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stays ready with one broken context: the other clusters serve', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kcp-ready-'));
    const file = join(dir, 'config');
    // The second context names a cluster the file does not define.
    await writeFile(file, kubeconfig([['good', fake.url], ['bad', undefined]]));
    const host = await probed({ clusters: kubeconfigClusters({ paths: [file] }), on: { resolverError: () => {} } });
    try {
      expect(await host.ready()).toEqual({ status: 200, body: { ready: true, checks: { draining: 'ok', tokenStore: 'ok', resolver: 'ok' } } });
      expect((await send(`${host.url}/clusters/good/version`)).status).toBe(200);
      const bad = await send(`${host.url}/clusters/bad/version`);
      expect(bad.status).toBeGreaterThanOrEqual(400);
      expect(bad.json()).toMatchObject({ kind: 'Status', message: expect.stringMatching(/nowhere/) });
    } finally {
      await host.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  const skip = redisSkipReason();
  it.skipIf(skip)(`is not ready while Redis is stopped${skip ? ` (skipped: ${skip})` : ''}`, async () => {
    const server = await startRedisServer();
    const client = await connectRedis(server.url);
    const host = await probed({ tokenStore: redisTokenStore({ client, encryptionKey: KEY, timeoutMs: 300 }) });
    try {
      expect((await host.ready()).status).toBe(200);
      await server.stop();
      expect(await until(() => host.ready(), (r) => r.status === 503)).toEqual({
        status: 503,
        body: { ready: false, checks: { draining: 'ok', tokenStore: 'unreachable', resolver: 'ok' } },
      });
      await server.start();
      expect((await until(() => host.ready(), (r) => r.status === 200)).status).toBe(200);
    } finally {
      await host.close();
      await client.close();
      await server.close();
    }
  }, 30_000);

  it('bounds each check: a store that never answers and a resolver that throws are reported, not awaited', async () => {
    const started = Date.now();
    const report = await checkReadiness({
      draining: () => false,
      tokenStore: { ...memoryTokenStore(), get: () => new Promise<undefined>(() => {}) },
      resolver: { resolve: () => undefined, list: () => { throw new Error('no clusters'); } },
      resolverFatal: () => undefined,
    });
    expect(report).toEqual({ ready: false, checks: { draining: 'ok', tokenStore: 'unreachable', resolver: 'unavailable' } });
    expect(Date.now() - started).toBeLessThan(CHECK_TIMEOUT_MS * 3);
  });
});
