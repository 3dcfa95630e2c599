import { describe, expect, it } from 'vitest';
import { isSharableRead, readKey, sortedQuery } from '../../src/share/request-key.ts';
import { testExchange } from '../helpers/exchange.ts';

describe('sortedQuery', () => {
  it('orders parameters by name, keeping repeated ones in order', () => {
    expect(sortedQuery('b=1&a=2')).toBe('a=2&b=1');
    expect(sortedQuery('a=2&a=1&b')).toBe('a=2&a=1&b=');
    expect(sortedQuery('')).toBe('');
    expect(sortedQuery('%zz=1&x=%E0%A4%A')).toBe(new URLSearchParams('%zz=1&x=%E0%A4%A').toString());
  });
});

describe('readKey', () => {
  const key = (path: string, headers = {}) => readKey(testExchange({ path, headers }), 'id');
  it('is the same for the same query in another order', () => {
    expect(key('/api/v1/pods?limit=5&labelSelector=a')).toBe(key('/api/v1/pods?labelSelector=a&limit=5'));
  });
  it('differs by path, query, identity and every header that changes the answer', () => {
    const base = key('/api/v1/pods');
    expect(key('/api/v1/pods?limit=1')).not.toBe(base);
    expect(key('/api/v1/secrets')).not.toBe(base);
    expect(readKey(testExchange({ path: '/api/v1/pods' }), 'other')).not.toBe(base);
    for (const name of ['accept', 'accept-encoding', 'accept-language', 'if-none-match', 'if-modified-since', 'range']) {
      expect(key('/api/v1/pods', { [name]: 'x' })).not.toBe(base);
    }
    expect(key('/api/v1/pods', { 'user-agent': 'kubectl' })).toBe(base);
  });
});

describe('isSharableRead', () => {
  it.each([
    ['GET', '/api/v1/namespaces/default/pods', {}, true],
    ['GET', '/api/v1/namespaces/default/pods/web', {}, true],
    ['GET', '/version', {}, true],
    ['HEAD', '/api/v1/namespaces/default/pods', {}, false],
    ['POST', '/api/v1/namespaces/default/pods', {}, false],
    ['GET', '/api/v1/namespaces/default/pods?watch=1', { streaming: true }, false],
    ['GET', '/api/v1/namespaces/default/pods/web/log', {}, false],
    ['GET', '/api/v1/namespaces/default/pods/web/proxy/index.html', {}, false],
    ['GET', '/api/v1/namespaces/default/pods/web/exec', { upgrade: true }, false],
    ['GET', '/api/v1/namespaces/default/pods', { hasBody: true }, false],
  ])('%s %s %j: %s', (method, path, extra, expected) => {
    expect(isSharableRead(testExchange({ method, path, ...extra }))).toBe(expected);
  });
});
