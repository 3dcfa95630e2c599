import { describe, expect, it } from 'vitest';
import { identityKey, keyedHash } from '../../src/share/identity-key.ts';
import { testExchange } from '../helpers/exchange.ts';

const user = { kind: 'user', source: 'header' } as const;
const impersonated = { kind: 'impersonated', source: 'header' } as const;
const verified = (name: string, groups: string[]) => ({ name, groups, kind: 'impersonated', source: 'verified-token' }) as const;

describe('identityKey', () => {
  it("gives every request with the cluster's own credentials one key per cluster and server", () => {
    const a = identityKey(testExchange({ headers: { authorization: 'Bearer one' } }));
    expect(a).toBe(identityKey(testExchange({ headers: { authorization: 'Bearer rotated' }, path: '/apis' })));
    expect(a).not.toBe(identityKey(testExchange({ cluster: 'staging' })));
    expect(a).not.toBe(identityKey(testExchange({ server: 'https://other.example:6443' })));
  });

  it('keys user tokens by keyed hash, never in clear', () => {
    const alice = identityKey(testExchange({ identity: user, headers: { authorization: 'Bearer alice-secret' } }))!;
    expect(alice).not.toContain('alice-secret');
    expect(alice).toBe(identityKey(testExchange({ identity: user, headers: { authorization: 'Bearer alice-secret' }, path: '/version' })));
    expect(alice).not.toBe(identityKey(testExchange({ identity: user, headers: { authorization: 'Bearer bob-secret' } })));
    expect(alice).not.toBe(identityKey(testExchange({ identity: user, headers: { authorization: 'Bearer alice-secret' }, cluster: 'staging' })));
  });

  it("tells a user token apart from the same token with the client's Impersonate-* headers", () => {
    const plain = identityKey(testExchange({ identity: user, headers: { authorization: 'Bearer t' } }));
    const asCarol = identityKey(testExchange({ identity: user, headers: { authorization: 'Bearer t', 'impersonate-user': 'carol' } }));
    const asDave = identityKey(testExchange({ identity: user, headers: { authorization: 'Bearer t', 'impersonate-user': 'dave' } }));
    const withGroup = identityKey(testExchange({ identity: user, headers: { authorization: 'Bearer t', 'impersonate-user': 'carol', 'impersonate-group': ['a', 'b'] } }));
    expect(new Set([plain, asCarol, asDave, withGroup]).size).toBe(4);
  });

  it('keys impersonation by the verified user and groups, in any order of the groups', () => {
    const a = identityKey(testExchange({ identity: impersonated, user: verified('alice', ['devs', 'ops']) }));
    expect(a).toBe(identityKey(testExchange({ identity: impersonated, user: verified('alice', ['ops', 'devs']) })));
    expect(a).not.toBe(identityKey(testExchange({ identity: impersonated, user: verified('alice', ['devs']) })));
    expect(a).not.toBe(identityKey(testExchange({ identity: impersonated, user: verified('bob', ['devs', 'ops']) })));
    // A name made of another's name and groups does not collide.
    expect(identityKey(testExchange({ identity: impersonated, user: verified('alice,devs', []) }))).not.toBe(identityKey(testExchange({ identity: impersonated, user: verified('alice', ['devs']) })));
  });

  it('refuses to key what it cannot tell apart: no token, no verified user', () => {
    expect(identityKey(testExchange({ identity: user, headers: {} }))).toBeUndefined();
    expect(identityKey(testExchange({ identity: user, headers: { authorization: '' } }))).toBeUndefined();
    expect(identityKey(testExchange({ identity: impersonated, user: { name: undefined, groups: [], kind: 'user', source: 'unknown' } }))).toBeUndefined();
  });

  it('hashes with a key: equal inputs agree, and the hash is not the plain SHA-256', async () => {
    const { createHash } = await import('node:crypto');
    expect(keyedHash('x')).toBe(keyedHash('x'));
    expect(keyedHash('x')).not.toBe(createHash('sha256').update('x').digest('base64url'));
  });
});
