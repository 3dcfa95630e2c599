import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisTokenStore, TokenStoreUnavailableError } from 'kube-cluster-proxy/redis';
import { redisSkipReason, startRedisServer, type RedisServer } from '../helpers/redis-server.ts';
import { connectRedis, KEY, type Redis } from './redis-helpers.ts';

const skip = redisSkipReason();
const UNAVAILABLE = /^the token store \(Redis\) is unavailable: ./;

/** How long `run` took to settle, and how. */
async function timed(run: () => Promise<unknown>) {
  const started = performance.now();
  const outcome = await run().then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error }),
  );
  return { ...outcome, ms: performance.now() - started };
}

/** Retries `check` until it passes, as a caller retrying after a 503 would. */
async function eventually<T>(check: () => Promise<T>, withinMs: number): Promise<T> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await sleep(50);
    }
  }
}

describe.skipIf(skip)(`redisTokenStore when Redis is down or hung${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let server: RedisServer;
  let redis: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    redis = await connectRedis(server.url);
  });
  afterAll(async () => {
    await redis?.close();
    await server?.close();
  });

  it('rejects every operation quickly with a clear error while Redis is stopped, and works again once it is back', async () => {
    const reported: Error[] = [];
    const store = redisTokenStore({ client: redis, encryptionKey: KEY, prefix: `t-${randomUUID()}:`, timeoutMs: 300, onError: (e) => reported.push(e) });
    await store.set('k', 'before', 60_000);
    const lock = await store.tryLock!('held', 10_000);

    await server.stop();
    const outcomes = await Promise.all([
      timed(() => store.get('k')),
      timed(() => store.set('k', 'during', 60_000)),
      timed(() => store.delete('k')),
      timed(() => store.tryLock!('other', 10_000)),
    ]);
    for (const { error, ms } of outcomes) {
      expect(error).toBeInstanceOf(TokenStoreUnavailableError);
      expect((error as TokenStoreUnavailableError).code).toBe('ERR_TOKEN_STORE_UNAVAILABLE');
      expect((error as Error).message).toBe('the token store (Redis) is unavailable: not connected (the client is reconnecting) within 300 ms');
      expect(ms).toBeLessThan(1_000);
    }
    // The holder's work is over; a release that cannot reach Redis is reported, not thrown.
    await expect(lock!.release()).resolves.toBeUndefined();
    expect(reported).toEqual([expect.any(TokenStoreUnavailableError)]);
    // The host's listener heard about the lost connection: no unhandled 'error' event.
    expect(redis.errors.length).toBeGreaterThan(0);

    await server.start(); // empty: this Redis persists nothing
    await eventually(() => store.set('k', 'after', 60_000), 5_000);
    expect(await store.get('k')).toBe('after');
    expect(await store.tryLock!('held', 10_000)).toBeDefined();
  });

  it('fails at once during an outage when the client has no offline queue', async () => {
    const client = await connectRedis(server.url, { disableOfflineQueue: true });
    try {
      const store = redisTokenStore({ client, encryptionKey: KEY, timeoutMs: 5_000 });
      await server.stop();
      const { error, ms } = await timed(() => store.get('k'));
      expect((error as Error).message).toMatch(UNAVAILABLE);
      expect(ms).toBeLessThan(200);
    } finally {
      await client.close();
      await server.start();
      await eventually(() => redis.ping(), 5_000);
    }
  });

  it('gives up on a hung Redis after timeoutMs, and reads the same value once it answers again', async () => {
    const store = redisTokenStore({ client: redis, encryptionKey: KEY, prefix: `t-${randomUUID()}:`, timeoutMs: 200 });
    await store.set('k', 'kept', 60_000);
    await server.pause();
    try {
      const { error, ms } = await timed(() => store.get('k'));
      expect((error as Error).message).toBe('the token store (Redis) is unavailable: no answer within 200 ms');
      expect(ms).toBeGreaterThanOrEqual(190);
      expect(ms).toBeLessThan(800);
    } finally {
      await server.resume();
    }
    expect(await store.get('k')).toBe('kept');
  });

  it('turns a client that throws, or a closed client, into the same error', async () => {
    const throwing = redisTokenStore({
      client: {
        sendCommand: () => {
          throw new Error('not connected');
        },
      },
      encryptionKey: KEY,
    });
    await expect(throwing.get('k')).rejects.toThrow('the token store (Redis) is unavailable: not connected');

    const closed = await connectRedis(server.url);
    await closed.close();
    await expect(redisTokenStore({ client: closed, encryptionKey: KEY }).get('k')).rejects.toThrow(UNAVAILABLE);
  });
});
