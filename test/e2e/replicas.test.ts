import type { ChildProcess } from 'node:child_process';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { Browser } from '../helpers/browser.ts';
import { nginxSkipReason, startLoadBalancer, type LoadBalancer } from '../helpers/nginx.ts';
import { startOidcProvider, type OidcProvider } from '../helpers/oidc-provider.ts';
import { redisSkipReason, startRedisServer, type RedisServer } from '../helpers/redis-server.ts';
import { replicaEnvironment, startReplica as startReplicaProcess, stopReplica as stopReplicaProcess } from '../helpers/replicas.ts';
import { freePort } from '../helpers/servers.ts';
import { execQuery } from '../helpers/websocket.ts';

const skip = nginxSkipReason() ?? redisSkipReason();

describe.skipIf(skip)(`three replicas sharing Redis behind nginx${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let redis: RedisServer;
  let idp: OidcProvider;
  let fake: FakeCluster;
  let lb: LoadBalancer;
  let base: string;
  const replicaPorts: number[] = [];
  const replicas: ChildProcess[] = [];
  let logs = '';
  let env: Record<string, string>;
  const browser = new Browser();

  async function startReplica(index: number): Promise<void> {
    replicas[index] = await startReplicaProcess({ ...env, PORT: String(replicaPorts[index]), REPLICA: `replica-${index}` }, (text) => (logs += text));
  }

  async function stopReplica(index: number): Promise<void> {
    await stopReplicaProcess(replicas[index]!);
  }

  beforeAll(async () => {
    redis = await startRedisServer();
    const lbPort = await freePort();
    base = `http://127.0.0.1:${lbPort}`;
    idp = await startOidcProvider({ redirectUris: [`${base}/auth/callback`], idTokenTtl: 600 });
    fake = await startFakeCluster({ name: 'ha', oidc: { issuerUrl: idp.issuer, clientId: idp.clientId } });
    for (let i = 0; i < 3; i++) replicaPorts.push(await freePort());
    env = { ...replicaEnvironment({ redisUrl: redis.url, idp, cluster: fake, base }), REFRESH_SKEW: '60000' };
    await Promise.all([0, 1, 2].map((i) => startReplica(i)));
    lb = await startLoadBalancer(lbPort, replicaPorts.map((p) => `http://127.0.0.1:${p}`));
  }, 60_000);

  afterAll(async () => {
    await Promise.all([0, 1, 2].map((i) => stopReplica(i).catch(() => {})));
    await lb?.close();
    await Promise.all([fake?.close(), idp?.close(), redis?.close()]);
  });

  it('round-robins without stickiness', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add(await (await fetch(`${base}/replica`)).text());
    expect(seen).toEqual(new Set(['replica-0', 'replica-1', 'replica-2']));
  });

  it('logs in through one replica and finishes on another; HTTP, watch and exec work through all', async () => {
    const { callbackStatus, landedAt } = await browser.login(`${base}/auth/login?returnTo=/`, 'alice');
    expect(callbackStatus).toBe(302);
    expect(landedAt).toBe(`${base}/`);
    for (let i = 0; i < 6; i++) {
      const res = await browser.fetch(`${base}/clusters/prod/api/v1/namespaces/default/pods`);
      expect(res.status).toBe(200);
    }
    expect(fake.requests.at(-1)?.user).toBe('alice');
    const watch = await browser.fetch(`${base}/clusters/prod/api/v1/namespaces/default/pods?watch=1`);
    const reader = watch.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value as Uint8Array);
    expect(first).toContain('"ADDED"');
    await reader.cancel();
    const output = await new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/clusters/prod/api/v1/namespaces/default/pods/web-ha-1/exec?${execQuery(['whoami'])}`, ['v4.channel.k8s.io'], {
        headers: { cookie: browser.cookieHeader(base), origin: base },
      });
      let text = '';
      ws.on('message', (data: Buffer) => {
        if (data[0] === 1) text += data.subarray(1).toString();
      });
      ws.on('close', () => resolve(text));
      ws.on('error', reject);
    });
    expect(output).toBe('alice\n');
  });

  it('with the token expired, 300 concurrent requests over the three replicas cause exactly one refresh grant', async () => {
    // A fresh login whose id-token lives 3 s: with the 60 s skew capped to half the lifetime, it
    // needs refreshing after 1.5 s. The refreshed tokens live long.
    const user = new Browser();
    idp.idTokenTtl = 3;
    await user.login(`${base}/auth/login`, 'bob');
    idp.idTokenTtl = 600;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const before = idp.refreshGrants;
    const results = await Promise.all(Array.from({ length: 300 }, () => user.fetch(`${base}/clusters/prod/api/v1/namespaces/default/pods`).then((r) => r.status)));
    expect(results.filter((s) => s !== 200)).toEqual([]);
    expect(idp.refreshGrants - before).toBe(1);
  });

  it('survives a restart of every replica', async () => {
    for (let i = 0; i < 3; i++) {
      await stopReplica(i);
      await startReplica(i);
    }
    const me = (await (await browser.fetch(`${base}/auth/me`)).json()) as { authenticated: boolean; sub: string };
    expect(me).toMatchObject({ authenticated: true, sub: 'alice' });
    for (let i = 0; i < 3; i++) expect((await browser.fetch(`${base}/clusters/prod/version`)).status).toBe(200);
  });

  it('answers 503 while Redis is unreachable, without crashing, and resumes when it returns', async () => {
    await redis.pause();
    try {
      const res = await browser.fetch(`${base}/clusters/prod/version`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { message: string }).message).toMatch(/store/i);
    } finally {
      await redis.resume();
    }
    await expect.poll(async () => (await browser.fetch(`${base}/clusters/prod/version`)).status, { timeout: 10_000 }).toBe(200);
    expect(replicas.every((r) => r.exitCode === null)).toBe(true);
  });

  it("logout closes the user's open exec WebSocket, on whichever replica holds it, within a second", async () => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/clusters/prod/api/v1/namespaces/default/pods/web-ha-1/exec?${execQuery(['cat'], true)}`, ['v4.channel.k8s.io'], {
      headers: { cookie: browser.cookieHeader(base), origin: base },
    });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const closed = new Promise((resolve) => ws.once('close', resolve));
    const started = performance.now();
    expect((await browser.fetch(`${base}/auth/logout`, { method: 'POST' })).status).toBe(200);
    await closed;
    expect(performance.now() - started).toBeLessThan(1_000);
    expect((await browser.fetch(`${base}/clusters/prod/version`)).status).toBe(401);
  });

  it('never wrote a token to its logs', () => {
    expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
    expect(logs).not.toContain(env.TOKEN_KEY);
  });
});
