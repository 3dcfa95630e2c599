import { describe, expect, it } from 'vitest';
import { createTokenCache } from '../../src/tokens/cached-token.ts';
import { memoryTokenStore } from '../../src/tokens/memory-token-store.ts';

describe('createTokenCache', () => {
  it('fetches once for many concurrent misses', async () => {
    let calls = 0;
    const cache = createTokenCache(memoryTokenStore(), Date.now);
    const fetch = async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return { token: `t${calls}` };
    };
    const tokens = await Promise.all(Array.from({ length: 200 }, () => cache.get('k', fetch)));
    expect(calls).toBe(1);
    expect(new Set(tokens)).toEqual(new Set(['t1']));
  });

  it('keeps a token until shortly before it expires, then fetches again', async () => {
    let now = 1_000_000;
    let calls = 0;
    const cache = createTokenCache(memoryTokenStore({ now: () => now }), () => now);
    const fetch = () => Promise.resolve({ token: `t${++calls}`, expiresAt: new Date(now + 600_000) });
    expect(await cache.get('k', fetch)).toBe('t1');
    now += 560_000;
    expect(await cache.get('k', fetch)).toBe('t1');
    now += 15_000; // 25 s before expiry: inside the 30 s margin
    expect(await cache.get('k', fetch)).toBe('t2');
  });

  it('does not cache an expired token, nor a failure', async () => {
    let calls = 0;
    const cache = createTokenCache(memoryTokenStore(), Date.now);
    const expired = () => Promise.resolve({ token: `t${++calls}`, expiresAt: new Date(Date.now() - 1) });
    await cache.get('k', expired);
    await cache.get('k', expired);
    expect(calls).toBe(2);
    await expect(cache.get('f', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await cache.get('f', () => Promise.resolve({ token: 'ok' }))).toBe('ok');
  });

  it('invalidates with a stale value only while the store still holds it', async () => {
    let calls = 0;
    const cache = createTokenCache(memoryTokenStore(), Date.now);
    const fetch = () => Promise.resolve({ token: `t${++calls}` });
    const first = await cache.get('k', fetch);
    await cache.invalidate('k', first);
    const second = await cache.get('k', fetch);
    expect(second).toBe('t2');
    await cache.invalidate('k', first); // a late 401 for t1
    expect(await cache.get('k', fetch)).toBe('t2');
    expect(calls).toBe(2);
  });

  it('fetches again after invalidate', async () => {
    let calls = 0;
    const cache = createTokenCache(memoryTokenStore(), Date.now);
    const fetch = () => Promise.resolve({ token: `t${++calls}` });
    await cache.get('k', fetch);
    await cache.invalidate('k');
    expect(await cache.get('k', fetch)).toBe('t2');
  });
});
