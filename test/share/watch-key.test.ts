import { describe, expect, it } from 'vitest';
import { normalizeAccept, sharedWatchRequest, type WatchRequestInput } from '../../src/share/watch-key.ts';

/** Malformed and hostile text: bad escapes, control characters, huge and odd Unicode, separators only. */
const HOSTILE = ['%', '%%', '%E0%A4%A', '&&&', '===', '\u0000', '\r\nX-Injected: 1', '\uD800', 'a'.repeat(100_000), 'watch', 'watch=', '=1', '__proto__=1', 'constructor=x', '+%2B+', '🦀=🦀'];

const base: WatchRequestInput = { cluster: 'c', identity: 'id', accept: undefined, pathname: '/api/v1/namespaces/default/pods', query: 'watch=1' };
const key = (input: Partial<WatchRequestInput>) => sharedWatchRequest({ ...base, ...input })?.key;

describe('the key of a shared watch', () => {
  it('is the same whatever the parameter order, watch=1 or watch=true, and the starting rules', () => {
    const one = key({ query: 'watch=1&labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3Dn1' });
    expect(key({ query: 'fieldSelector=spec.nodeName%3Dn1&labelSelector=app%3Dweb&watch=true' })).toBe(one);
    expect(key({ query: 'labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3Dn1&watch=TRUE&resourceVersion=12&timeoutSeconds=300&allowWatchBookmarks=true' })).toBe(one);
    expect(key({ query: 'watch=1&labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3Dn1&sendInitialEvents=true&allowWatchBookmarks=1&resourceVersionMatch=NotOlderThan' })).toBe(one);
    // limit does not apply to a watch
    expect(key({ query: 'watch=1&limit=500&labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3Dn1' })).toBe(one);
  });

  it('differs by cluster, identity, Accept, path and selectors', () => {
    const one = key({});
    expect(key({ cluster: 'd' })).not.toBe(one);
    expect(key({ identity: 'other' })).not.toBe(one);
    expect(key({ accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' })).not.toBe(one);
    expect(key({ pathname: '/api/v1/pods' })).not.toBe(one);
    expect(key({ query: 'watch=1&labelSelector=app%3Dweb' })).not.toBe(one);
    // No Accept is the API server's JSON.
    expect(key({ accept: 'application/json' })).toBe(one);
  });

  it('carries the starting rules of the subscriber', () => {
    expect(sharedWatchRequest({ ...base, query: 'watch=1&resourceVersion=42&timeoutSeconds=5&allowWatchBookmarks=true' })?.start).toEqual({
      resourceVersion: '42',
      sendInitialEvents: undefined,
      bookmarks: true,
      timeoutSeconds: 5,
    });
    // timeoutSeconds=0 is unset, as the API server reads it.
    expect(sharedWatchRequest({ ...base, query: 'watch=1&timeoutSeconds=0' })?.start.timeoutSeconds).toBeUndefined();
  });

  it('builds the upstream list and watch paths with the shared parameters only', () => {
    const shared = sharedWatchRequest({ ...base, query: 'watch=1&resourceVersion=42&labelSelector=app%3Dweb&limit=5' })!;
    expect(shared.listPath).toBe('/api/v1/namespaces/default/pods?labelSelector=app%3Dweb');
    expect(shared.probePath).toBe('/api/v1/namespaces/default/pods?labelSelector=app%3Dweb&limit=1');
    expect(shared.watchPath('77')).toBe('/api/v1/namespaces/default/pods?labelSelector=app%3Dweb&allowWatchBookmarks=true&resourceVersion=77&watch=true');
    expect(sharedWatchRequest(base)!.listPath).toBe('/api/v1/namespaces/default/pods');
  });

  it('leaves to the cluster what it would refuse or what the proxy cannot read', () => {
    for (const query of [
      'watch=0',
      'watch=yes',
      'labelSelector=a',
      'watch=1&resourceVersion=abc',
      'watch=1&resourceVersion=-1',
      'watch=1&resourceVersion=12345678901234567890',
      'watch=1&continue=token',
      'watch=1&labelSelector=a&labelSelector=b',
      'watch=1&labelSelector=%zz',
      'watch=1&allowWatchBookmarks=maybe',
      'watch=1&timeoutSeconds=-5',
      'watch=1&timeoutSeconds=1e3',
      'watch=1&resourceVersionMatch=NotOlderThan',
      'watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan',
      'watch=1&sendInitialEvents=true&allowWatchBookmarks=true',
      'watch=1&sendInitialEvents=false&resourceVersionMatch=Exact',
    ]) {
      expect(sharedWatchRequest({ ...base, query }), query).toBeUndefined();
    }
    for (const accept of ['application/vnd.kubernetes.protobuf', 'application/json, application/vnd.kubernetes.protobuf', 'application/yaml', 'text/html']) {
      expect(sharedWatchRequest({ ...base, accept }), accept).toBeUndefined();
    }
  });

  it('survives hostile input as a query or an Accept header', () => {
    for (const text of HOSTILE) {
      expect(() => sharedWatchRequest({ ...base, query: `watch=1&${text}` })).not.toThrow();
      expect(() => sharedWatchRequest({ ...base, query: text })).not.toThrow();
      expect(() => normalizeAccept(text)).not.toThrow();
    }
  });
});
