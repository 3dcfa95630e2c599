import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisTokenStore, UnreadableValueError, type RedisTokenStoreOptions } from 'kube-cluster-proxy/redis';
import { createRefreshOnce } from '../../src/tokens/refresh-once.ts';
import { redisSkipReason, startRedisServer, type RedisServer } from '../helpers/redis-server.ts';
import { connectRedis, KEY, type Redis } from './redis-helpers.ts';

const skip = redisSkipReason();

describe.skipIf(skip)(`redisTokenStore${skip ? ` (skipped: ${skip})` : ''}`, () => {
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

  /** A store on its own prefix, so that tests do not see one another's keys; `errors` gets what it reports. */
  function storeFor(options: Partial<RedisTokenStoreOptions> = {}) {
    const errors: Error[] = [];
    const prefix = `t-${randomUUID()}:`;
    const store = redisTokenStore({ client: redis, encryptionKey: KEY, prefix, onError: (e) => errors.push(e), ...options });
    return { store, errors, prefix };
  }

  describe('options', () => {
    it.each([
      [{}, /client must have sendCommand/],
      [{ client: {} }, /client must have sendCommand/],
      [{ client: { sendCommand: () => Promise.resolve(null) } }, /encryptionKey is required/],
      [{ client: { sendCommand: () => Promise.resolve(null) }, encryptionKey: 'too short' }, /encryptionKey must be a string of at least 32 characters or at least 32 bytes/],
      [{ client: { sendCommand: () => Promise.resolve(null) }, encryptionKey: Buffer.alloc(31) }, /encryptionKey must be/],
      [{ client: { sendCommand: () => Promise.resolve(null) }, encryptionKey: [KEY, 'short'] }, /encryptionKey\[1\] must be/],
      [{ client: { sendCommand: () => Promise.resolve(null) }, encryptionKey: [] }, /encryptionKey must not be an empty list/],
      [{ client: { sendCommand: () => Promise.resolve(null) }, encryptionKey: KEY, encryption: false }, /encryptionKey is given but encryption is false/],
      [{ client: { sendCommand: () => Promise.resolve(null) }, encryptionKey: KEY, timeoutMs: 0 }, /timeoutMs must be a positive number/],
      [{ client: { sendCommand: () => Promise.resolve(null) }, encryptionKey: KEY, prefix: 1 }, /prefix must be a string/],
      [{ client: { sendCommand: () => Promise.resolve(null) }, encryptionKey: KEY, onError: 'log' }, /onError must be a function/],
    ])('refuses %o at construction', (options, message) => {
      expect(() => redisTokenStore(options as unknown as RedisTokenStoreOptions)).toThrow(message);
    });

    it('accepts a 32-byte Buffer as the key, and no key with encryption: false', () => {
      expect(() => redisTokenStore({ client: redis, encryptionKey: Buffer.alloc(32, 7) })).not.toThrow();
      expect(() => redisTokenStore({ client: redis, encryption: false })).not.toThrow();
    });
  });

  describe('values', () => {
    it('round-trips, overwrites and deletes', async () => {
      const { store } = storeFor();
      expect(await store.get('a')).toBeUndefined();
      await store.set('a', 'token-1', 60_000);
      expect(await store.get('a')).toBe('token-1');
      await store.set('a', 'token-2 with ünïcode', 60_000);
      expect(await store.get('a')).toBe('token-2 with ünïcode');
      await store.delete('a');
      expect(await store.get('a')).toBeUndefined();
      await store.delete('a'); // absent: no error
    });

    it('expires entries after their TTL, and keeps Infinity ones without expiry', async () => {
      const { store, prefix } = storeFor();
      await store.set('short', 'v', 200);
      await store.set('forever', 'v', Infinity);
      expect(await store.get('short')).toBe('v');
      expect(await redis.pTTL(`${prefix}value:short`)).toBeGreaterThan(100);
      expect(await redis.pTTL(`${prefix}value:forever`)).toBe(-1); // no expiry
      await sleep(300);
      expect(await store.get('short')).toBeUndefined();
      expect(await store.get('forever')).toBe('v');
    });

    it('drops the old TTL when a key is set again with Infinity', async () => {
      const { store, prefix } = storeFor();
      await store.set('k', 'v1', 200);
      await store.set('k', 'v2', Infinity);
      expect(await redis.pTTL(`${prefix}value:k`)).toBe(-1);
    });

    it('refuses a TTL that is not positive', async () => {
      const { store } = storeFor();
      await expect(store.set('k', 'v', 0)).rejects.toThrow(RangeError);
      await expect(store.set('k', 'v', NaN)).rejects.toThrow(RangeError);
    });

    it('namespaces keys by prefix: two stores with different prefixes do not see each other', async () => {
      const one = storeFor();
      const two = storeFor();
      await one.store.set('shared-name', 'one', 60_000);
      expect(await two.store.get('shared-name')).toBeUndefined();
      await two.store.set('shared-name', 'two', 60_000);
      expect(await one.store.get('shared-name')).toBe('one');
      expect(await redis.keys(`${one.prefix}*`)).toEqual([`${one.prefix}value:shared-name`]);
    });

    it('shares values between stores on the same prefix and key (two replicas)', async () => {
      const { store, prefix } = storeFor();
      const replica = redisTokenStore({ client: redis, encryptionKey: KEY, prefix });
      await store.set('k', 'from replica 1', 60_000);
      expect(await replica.get('k')).toBe('from replica 1');
    });
  });

  describe('encryption at rest', () => {
    it('stores a JWE that does not contain the value', async () => {
      const { store, prefix } = storeFor();
      await store.set('k', 'super-secret-token', 60_000);
      const raw = await redis.get(`${prefix}value:k`);
      expect(raw).toMatch(/^[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/); // compact JWE, dir: empty encrypted key
      expect(JSON.parse(Buffer.from(raw!.split('.')[0]!, 'base64url').toString())).toMatchObject({ alg: 'dir', enc: 'A256GCM' });
      expect(raw).not.toContain('super-secret-token');
      expect(raw).not.toContain(Buffer.from('super-secret-token').toString('base64url'));
    });

    it('refuses a value copied under another key, and reports it', async () => {
      const { store, errors, prefix } = storeFor();
      await store.set('alice', 'alice-token', 60_000);
      await redis.set(`${prefix}value:mallory`, (await redis.get(`${prefix}value:alice`))!);
      expect(await store.get('mallory')).toBeUndefined();
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(UnreadableValueError);
      expect(errors[0]!.message).toBe('a value in the token store was ignored (treated as absent): it was written under another key');
      expect(await store.get('alice')).toBe('alice-token');
    });

    it('refuses a tampered value, and reports it without the value', async () => {
      const { store, errors, prefix } = storeFor();
      await store.set('k', 'the-token', 60_000);
      const raw = (await redis.get(`${prefix}value:k`))!;
      const parts = raw.split('.');
      const ciphertext = Buffer.from(parts[3]!, 'base64url');
      ciphertext[0]! ^= 1;
      parts[3] = ciphertext.toString('base64url');
      await redis.set(`${prefix}value:k`, parts.join('.'));
      expect(await store.get('k')).toBeUndefined();
      expect(errors.map((e) => e.message)).toEqual([
        'a value in the token store was ignored (treated as absent): it is not a JWE this store wrote, or it was altered',
      ]);
    });

    it.each([
      ['plain text', 'just-a-plain-token'],
      ['an empty string', ''],
      ['a JWE-looking string', 'a.b.c.d.e'],
      ['binary junk', '\u0000\u00ff{"k":'],
    ])('treats %s written directly into Redis as absent, and reports it', async (_name, garbage) => {
      const { store, errors, prefix } = storeFor();
      await redis.set(`${prefix}value:k`, garbage);
      expect(await store.get('k')).toBeUndefined();
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(UnreadableValueError);
      if (garbage) expect(errors[0]!.message).not.toContain(garbage);
    });

    it('does not read values written with another key', async () => {
      const { store, errors, prefix } = storeFor();
      await store.set('k', 'v', 60_000);
      const other = redisTokenStore({ client: redis, encryptionKey: 'another-key-of-at-least-32-characters', prefix, onError: (e) => errors.push(e) });
      expect(await other.get('k')).toBeUndefined();
      expect(errors[0]?.message).toMatch(/encrypted with a key that is not among encryptionKey/);
    });

    it('rotates keys: the first key encrypts, every listed key decrypts', async () => {
      const { store: old, prefix } = storeFor();
      await old.set('old', 'written before rotation', 60_000);
      const NEW = 'n'.repeat(32);
      const rotated = redisTokenStore({ client: redis, encryptionKey: [NEW, KEY], prefix });
      expect(await rotated.get('old')).toBe('written before rotation');
      await rotated.set('new', 'written after rotation', 60_000);
      const newOnly = redisTokenStore({ client: redis, encryptionKey: NEW, prefix, onError: () => {} });
      expect(await newOnly.get('new')).toBe('written after rotation');
      expect(await newOnly.get('old')).toBeUndefined();
    });

    it('stores the plain value with encryption: false', async () => {
      const { store, prefix } = storeFor({ encryption: false, encryptionKey: undefined });
      await store.set('k', 'plain-token', 60_000);
      expect(await redis.get(`${prefix}value:k`)).toBe('plain-token');
      expect(await store.get('k')).toBe('plain-token');
    });
  });

  describe('locks', () => {
    it('has one owner at a time, and frees the lock on release', async () => {
      const { store, prefix } = storeFor();
      const first = await store.tryLock!('refresh', 10_000);
      expect(first).toBeDefined();
      expect(await store.tryLock!('refresh', 10_000)).toBeUndefined();
      expect(await store.tryLock!('another', 10_000)).toBeDefined();
      expect(await redis.pTTL(`${prefix}lock:refresh`)).toBeGreaterThan(9_000);
      await first!.release();
      expect(await redis.exists(`${prefix}lock:refresh`)).toBe(0);
      expect(await store.tryLock!('refresh', 10_000)).toBeDefined();
    });

    it('keeps locks apart from values of the same name', async () => {
      const { store } = storeFor();
      await store.set('lock:x', 'value', 60_000);
      expect(await store.tryLock!('x', 10_000)).toBeDefined();
      expect(await store.get('lock:x')).toBe('value');
    });

    it("expires a crashed holder's lock, and a late release does not free the next owner's", async () => {
      const { store } = storeFor();
      const crashed = await store.tryLock!('k', 200);
      expect(crashed).toBeDefined();
      await sleep(300);
      const next = await store.tryLock!('k', 10_000);
      expect(next).toBeDefined();
      await crashed!.release(); // too late: the lock is next's now
      expect(await store.tryLock!('k', 10_000)).toBeUndefined();
      await next!.release();
      expect(await store.tryLock!('k', 10_000)).toBeDefined();
    });

    it('lets exactly one of two replicas on separate connections take a contended lock', async () => {
      const other = await connectRedis(server.url);
      try {
        const { store, prefix } = storeFor();
        const replica = redisTokenStore({ client: other, encryptionKey: KEY, prefix });
        const attempts = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? store : replica).tryLock!('k', 10_000)));
        expect(attempts.filter(Boolean)).toHaveLength(1);
      } finally {
        await other.close();
      }
    });

    it('refuses a lock without a finite positive TTL', async () => {
      const { store } = storeFor();
      await expect(store.tryLock!('k', Infinity)).rejects.toThrow(RangeError);
      await expect(store.tryLock!('k', 0)).rejects.toThrow(RangeError);
    });
  });

  it('runs exactly one refresh for 200 concurrent callers on two replicas (createRefreshOnce)', async () => {
    const other = await connectRedis(server.url);
    try {
      const prefix = `t-${randomUUID()}:`;
      const stores = [
        redisTokenStore({ client: redis, encryptionKey: KEY, prefix }),
        redisTokenStore({ client: other, encryptionKey: KEY, prefix }),
      ];
      let refreshes = 0;
      const replicas = stores.map((store) => {
        const once = createRefreshOnce(store, { pollMs: 10 });
        // Each replica reads the shared store, so the one that did not refresh sees the other's result.
        return (i: number) =>
          once.run(
            'session-1',
            () => store.get('session-1'),
            async () => {
              refreshes++;
              await sleep(100);
              const fresh = `refreshed-by-${i % 2}`;
              await store.set('session-1', fresh, 60_000);
              return fresh;
            },
          );
      });
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => replicas[i % 2]!(i)));
      expect(refreshes).toBe(1);
      expect(new Set(results).size).toBe(1);
      expect(await redis.keys(`${prefix}lock:*`)).toEqual([]); // released
    } finally {
      await other.close();
    }
  });
});
