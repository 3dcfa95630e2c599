import { describe, expect, it } from 'vitest';
import { createDiscoveryCache, type CachedAnswer } from '../../src/share/discovery-cache.ts';

function setup(ttlMs = 1_000, maxEntries = 10) {
  const clock = { now: 1_000_000 };
  const cache = createDiscoveryCache({ ttlMs, maxEntries, now: () => clock.now });
  const answer = (text: string): CachedAnswer => ({ headers: {}, body: Buffer.from(text), etag: `"${text}"`, storedAt: clock.now });
  return { clock, cache, answer };
}

describe('the discovery cache', () => {
  it('serves an answer within its TTL, and drops it after', () => {
    const { clock, cache, answer } = setup();
    cache.set('prod', 'k', answer('a'), cache.generation('prod'));
    clock.now += 999;
    expect(cache.get('prod', 'k')?.body.toString()).toBe('a');
    clock.now += 1;
    expect(cache.get('prod', 'k')).toBeUndefined();
    clock.now -= 1;
    expect(cache.get('prod', 'k')).toBeUndefined();
  });

  it('treats a clock that went back as expired', () => {
    const { clock, cache, answer } = setup();
    cache.set('prod', 'k', answer('a'), 0);
    clock.now -= 10;
    expect(cache.get('prod', 'k')).toBeUndefined();
  });

  it('keeps clusters apart, and invalidates one without the others', () => {
    const { cache, answer } = setup();
    cache.set('prod', 'k', answer('p'), 0);
    cache.set('staging', 'k', answer('s'), 0);
    cache.set('prod2', 'k', answer('p2'), 0);
    cache.invalidate('prod');
    expect(cache.get('prod', 'k')).toBeUndefined();
    expect(cache.get('staging', 'k')?.body.toString()).toBe('s');
    expect(cache.get('prod2', 'k')?.body.toString()).toBe('p2');
  });

  it('stores nothing fetched before an invalidation', () => {
    const { cache, answer } = setup();
    const before = cache.generation('prod');
    cache.invalidate('prod');
    cache.set('prod', 'k', answer('stale'), before);
    expect(cache.get('prod', 'k')).toBeUndefined();
    cache.set('prod', 'k', answer('fresh'), cache.generation('prod'));
    expect(cache.get('prod', 'k')?.body.toString()).toBe('fresh');
  });

  it('holds at most maxEntries, the least recently used going first', () => {
    const { cache, answer } = setup(1_000, 2);
    cache.set('prod', 'a', answer('a'), 0);
    cache.set('prod', 'b', answer('b'), 0);
    cache.get('prod', 'a');
    cache.set('prod', 'c', answer('c'), 0);
    expect(cache.get('prod', 'b')).toBeUndefined();
    expect(cache.get('prod', 'a')).toBeDefined();
    expect(cache.get('prod', 'c')).toBeDefined();
  });
});
