import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisTokenStore } from 'kube-cluster-proxy/redis';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { redisSkipReason, startRedisServer, type RedisServer } from '../helpers/redis-server.ts';
import { send, startProxyHost, type ProxyHost } from '../helpers/servers.ts';
import { connectRedis, KEY, type Redis } from './redis-helpers.ts';

const skip = redisSkipReason();

describe.skipIf(skip)(`the proxy with a redisTokenStore${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let server: RedisServer;
  let fake: FakeCluster;
  const clients: Redis[] = [];
  const hosts: ProxyHost[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
    fake = await startFakeCluster({ name: 'redis', tokens: { 'robot-token': 'robot' } });
  });
  afterAll(async () => {
    await Promise.all(hosts.map((host) => host.close()));
    await Promise.all(clients.map((client) => client.close()));
    await fake?.close();
    await server?.close();
  });

  /** A replica: its own proxy, its own Redis connection, the shared Redis and prefix. */
  async function replica(prefix: string, getToken: () => Promise<{ token: string; expiresAt?: Date }>) {
    const client = await connectRedis(server.url);
    clients.push(client);
    const tokenStore = redisTokenStore({ client, encryptionKey: KEY, prefix, timeoutMs: 300 });
    const host = await startProxyHost({
      clusters: [{ name: 'c', server: fake.url, ca: fake.ca, credentials: { getToken } }],
      tokenStore,
    });
    hosts.push(host);
    return { host, client };
  }

  const pods = (host: ProxyHost) => send(`${host.url}/clusters/c/api/v1/namespaces/default/pods`);

  it("caches getToken's token in Redis for every replica, and answers 503 while Redis is down", async () => {
    const prefix = `t-${randomUUID()}:`;
    const calls = [0, 0];
    const getToken = (i: 0 | 1) => () => {
      calls[i]!++;
      return Promise.resolve({ token: 'robot-token', expiresAt: new Date(Date.now() + 3_600_000) });
    };
    const first = await replica(prefix, getToken(0));
    const second = await replica(prefix, getToken(1));

    expect((await pods(first.host)).status).toBe(200);
    expect(calls).toEqual([1, 0]);
    const stored = await first.client.get(`${prefix}value:cluster:c:getToken`);
    expect(stored).toMatch(/^[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(stored).not.toContain('robot-token');
    const ttl = await first.client.pTTL(`${prefix}value:cluster:c:getToken`);
    expect(ttl).toBeGreaterThan(3_000_000); // about the token's hour, less the safety margin
    expect(ttl).toBeLessThan(3_600_000);

    expect((await pods(second.host)).status).toBe(200); // another replica: the token comes from Redis
    expect(calls).toEqual([1, 0]);

    await server.stop();
    try {
      const down = await pods(second.host);
      expect(down.status).toBe(503);
      expect(down.json()).toMatchObject({
        kind: 'Status',
        code: 503,
        reason: 'ServiceUnavailable',
        message: expect.stringContaining('the token store (Redis) is unavailable'),
      });
      expect(down.body).not.toContain('robot-token');
      expect(calls).toEqual([1, 0]);
    } finally {
      await server.start();
    }
    // Redis came back empty: the next request fetches a token again, and stores it for everyone.
    await expect.poll(async () => (await pods(second.host)).status, { timeout: 5_000, interval: 100 }).toBe(200);
    expect(calls).toEqual([1, 1]);
    expect((await pods(first.host)).status).toBe(200);
    expect(calls).toEqual([1, 1]);
  });
});
