import { describe, expect, it } from 'vitest';
import { deriveKey } from '../../src/tokens/derive-key.ts';

const SECRET = 'a-secret-of-at-least-32-characters!!';
const hex = (key: Uint8Array) => Buffer.from(key).toString('hex');

describe('deriveKey', () => {
  // Keys derived by the two derivations this helper replaced: stored values and login states
  // sealed before must stay readable, so these may never change.
  it('derives the keys the OAuth state and the token store have always used', () => {
    expect(hex(deriveKey(SECRET, 'oauth-state', { salt: 'kube-cluster-proxy' }))).toBe('b41f52b4e24b36083cee73395496a5e8609f2d65de93c7aa44ba377532cc2428');
    expect(hex(deriveKey(SECRET, 'kube-cluster-proxy token store A256GCM'))).toBe('9c1636e4e72b8dbe7f1538739a8bd3b0e5b1bbd78036ee0918d0ca6cdc562968');
    expect(Buffer.from(deriveKey(SECRET, 'kube-cluster-proxy token store key id', { length: 8 })).toString('base64url')).toBe('nTdlSxxEofI');
  });

  it('gives each purpose, salt and secret its own key', () => {
    const keys = [
      deriveKey(SECRET, 'a'),
      deriveKey(SECRET, 'b'),
      deriveKey(SECRET, 'a', { salt: 'x' }),
      deriveKey(`${SECRET}!`, 'a'),
    ].map(hex);
    expect(new Set(keys).size).toBe(4);
  });

  it('derives the same key from a string and from its UTF-8 bytes, and is deterministic', () => {
    expect(hex(deriveKey(new TextEncoder().encode(SECRET), 'a'))).toBe(hex(deriveKey(SECRET, 'a')));
    expect(hex(deriveKey(SECRET, 'a'))).toBe(hex(deriveKey(SECRET, 'a')));
  });

  it('derives keys of the asked length, 32 bytes by default', () => {
    expect(deriveKey(SECRET, 'a')).toHaveLength(32);
    expect(deriveKey(SECRET, 'a', { length: 8 })).toHaveLength(8);
    expect(hex(deriveKey(SECRET, 'a', { length: 8 }))).toBe(hex(deriveKey(SECRET, 'a')).slice(0, 16));
  });

  it('refuses a length HKDF-SHA-256 cannot give', () => {
    expect(() => deriveKey(SECRET, 'a', { length: 255 * 32 + 1 })).toThrow();
    expect(() => deriveKey(SECRET, 'a', { length: 0 })).toThrow();
  });
});
