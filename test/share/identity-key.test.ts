import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../src/pipeline/exchange.ts';
import { identityKey } from '../../src/share/identity-key.ts';

function exchange(kind: 'user' | 'cluster' | 'impersonated', given: { cluster?: string; headers?: Record<string, string | string[]>; name?: string; groups?: string[] } = {}): Exchange {
  return {
    cluster: { name: given.cluster ?? 'c' },
    identity: { kind, source: 'header' },
    user: { name: given.name, groups: given.groups ?? [], kind, source: 'unknown' },
    headers: given.headers ?? {},
  } as unknown as Exchange;
}

describe('the identity key', () => {
  it('the cluster’s own credentials: one identity per cluster', () => {
    expect(identityKey(exchange('cluster'))).toBe(identityKey(exchange('cluster', { headers: { authorization: 'Bearer anything' } })));
    expect(identityKey(exchange('cluster'))).not.toBe(identityKey(exchange('cluster', { cluster: 'd' })));
  });

  it('user tokens: equal for the same token on the same cluster, never holding the token', () => {
    const alice = identityKey(exchange('user', { headers: { authorization: 'Bearer alice-secret-token' } }));
    expect(alice).toBe(identityKey(exchange('user', { headers: { authorization: 'Bearer alice-secret-token' } })));
    expect(alice).not.toContain('alice-secret-token');
    expect(alice).not.toBe(identityKey(exchange('user', { headers: { authorization: 'Bearer bob-secret-token' } })));
    expect(alice).not.toBe(identityKey(exchange('user', { cluster: 'd', headers: { authorization: 'Bearer alice-secret-token' } })));
    // A user impersonating someone else is someone else to the cluster.
    expect(alice).not.toBe(identityKey(exchange('user', { headers: { authorization: 'Bearer alice-secret-token', 'impersonate-user': 'bob' } })));
    expect(identityKey(exchange('user'))).toBeUndefined();
  });

  it('impersonate mode: the verified user and groups, whatever their order', () => {
    const one = identityKey(exchange('impersonated', { name: 'alice', groups: ['a', 'b'] }));
    expect(one).toBe(identityKey(exchange('impersonated', { name: 'alice', groups: ['b', 'a'] })));
    expect(one).not.toBe(identityKey(exchange('impersonated', { name: 'alice', groups: ['a'] })));
    expect(one).not.toBe(identityKey(exchange('impersonated', { name: 'bob', groups: ['a', 'b'] })));
    expect(identityKey(exchange('impersonated', {}))).toBeUndefined();
  });
});
