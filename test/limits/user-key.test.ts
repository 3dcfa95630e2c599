import { describe, expect, it } from 'vitest';
import { limitUserKey } from '../../src/limits/user-key.ts';
import { testExchange } from '../helpers/exchange.ts';

describe('limitUserKey', () => {
  it('takes the verified user first', () => {
    const exchange = testExchange({ identity: { kind: 'impersonated', source: 'header' }, user: { name: 'alice', groups: [], kind: 'impersonated', source: 'verified-token' }, session: 's' });
    expect(limitUserKey(exchange, '10.0.0.1')).toBe('user:alice');
  });

  it('then the token, by keyed hash', () => {
    const key = limitUserKey(testExchange({ identity: { kind: 'user', source: 'header' }, headers: { authorization: 'Bearer secret-token' } }), '10.0.0.1');
    expect(key).toMatch(/^token:/);
    expect(key).not.toContain('secret-token');
    expect(limitUserKey(testExchange({ identity: { kind: 'user', source: 'cookie' }, headers: { authorization: 'Bearer secret-token' }, cluster: 'other' }), '10.0.0.9')).toBe(key);
  });

  it("then the session, then the address: the cluster's own identity names nobody", () => {
    expect(limitUserKey(testExchange({ session: 'sess-1' }), '10.0.0.1')).toMatch(/^session:/);
    expect(limitUserKey(testExchange({ session: 'sess-1' }), '10.0.0.1')).not.toContain('sess-1');
    expect(limitUserKey(testExchange({}), '10.0.0.1')).toBe('address:10.0.0.1');
    expect(limitUserKey(testExchange({}), undefined)).toBe('address:unknown');
  });
});
