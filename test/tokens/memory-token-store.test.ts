import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.ts';
import { memoryTokenStore } from '../../src/tokens/memory-token-store.ts';

describe('memoryTokenStore', () => {
  it('stores, expires after the TTL on its clock, and deletes', async () => {
    let now = 1_000;
    const store = memoryTokenStore({ now: () => now });
    await store.set('k', 'v', 500);
    expect(await store.get('k')).toBe('v');
    now += 499;
    expect(await store.get('k')).toBe('v');
    now += 2;
    expect(await store.get('k')).toBeUndefined();
    await store.set('k', 'w', Infinity);
    now += 1e9;
    expect(await store.get('k')).toBe('w');
    await store.delete('k');
    expect(await store.get('k')).toBeUndefined();
  });

  it('is bounded by max', async () => {
    const store = memoryTokenStore({ max: 2 });
    await store.set('a', '1', 1e6);
    await store.set('b', '2', 1e6);
    await store.set('c', '3', 1e6);
    expect(await store.get('a')).toBeUndefined();
    expect(await store.get('c')).toBe('3');
  });

  it('refuses a non-positive TTL and invalid options', async () => {
    await expect(memoryTokenStore().set('a', 'b', 0)).rejects.toThrow(RangeError);
    expect(() => memoryTokenStore({ max: 0 })).toThrow(InvalidOptionError);
    expect(() => memoryTokenStore({ max: 1.5 })).toThrow(/max must be a positive integer/);
  });
});
