import { describe, expect, it } from 'vitest';
import { createClusterProxy, InvalidOptionError, memoryTokenStore } from 'kube-cluster-proxy';
import type { ClusterProxyOptions } from 'kube-cluster-proxy';

const clusters = [{ name: 'a', server: 'https://a.example:6443' }];

describe('createClusterProxy options', () => {
  it('takes http2 with the undici engine, and http2: false with either', () => {
    expect(() => createClusterProxy({ clusters: [{ name: 'h2', server: 'https://b', http2: true }] })).not.toThrow();
    expect(() => createClusterProxy({ clusters: [{ name: 'h1', server: 'https://b', http2: false }], engine: 'http-proxy-middleware' })).not.toThrow();
  });

  it('applies the defaults', () => {
    expect(createClusterProxy({ clusters }).mountPath).toBe('/clusters');
    expect(createClusterProxy({ clusters, mountPath: '/k8s/' }).mountPath).toBe('/k8s/');
  });

  it.each<[string, unknown, RegExp]>([
    ['no options', undefined, /needs an options object/],
    ['no clusters', {}, /clusters is required/],
    ['clusters not an array', { clusters: { a: 1 } }, /clusters must be an array/],
    ['a relative mountPath', { clusters, mountPath: 'clusters' }, /mountPath must be an absolute path/],
    ['a mountPath with dot segments', { clusters, mountPath: '/a/../b' }, /mountPath/],
    ['a mountPath with a query', { clusters, mountPath: '/a?b' }, /mountPath/],
    ['an invalid tokenCookie', { clusters, tokenCookie: 'a b' }, /tokenCookie must be a valid cookie name/],
    ['a zero upstreamTimeout', { clusters, upstreamTimeout: 0 }, /upstreamTimeout must be a positive number/],
    ['a string upstreamTimeout', { clusters, upstreamTimeout: '5s' }, /upstreamTimeout/],
    ['an incomplete tokenStore', { clusters, tokenStore: { get() {} } }, /tokenStore must implement/],
    ['an unknown hook', { clusters, on: { request() {} } }, /on.request is not a hook/],
    ['a hook that is not a function', { clusters, on: { error: 1 } }, /on.error must be a function/],
    ['a logger without warn', { clusters, logger: {} }, /logger must have/],
    ['an origin with a path', { clusters, allowedOrigins: ['https://a/b'] }, /allowedOrigins\[0\]/],
    ['an invalid cluster', { clusters: [{ name: 'a', server: 'https://a', authMode: 'cluster' }] }, /clusters\[0\] \("a"\)\.authMode 'cluster' needs/],
    [
      'http2 with the http-proxy-middleware engine',
      { clusters: [...clusters, { name: 'h2', server: 'https://b', http2: true }], engine: 'http-proxy-middleware' },
      /clusters\[1\] \("h2"\): http2 needs engine 'undici' \(engine 'http-proxy-middleware' speaks HTTP\/1\.1 only\)/,
    ],
    ['a misspelled option', { clusters, mountpath: '/k8s' }, /createClusterProxy: unknown option "mountpath"; did you mean "mountPath"\?/],
    ['a misspelled cluster field', { clusters: [{ name: 'a', server: 'https://a', insecureSkipTlsVerify: true }] }, /unknown option "insecureSkipTlsVerify"; did you mean "insecureSkipTLSVerify"\?/],
    ['an unknown option', { clusters, timeout: 5 }, /unknown option "timeout" \(known: mountPath, clusters/],
  ])('refuses %s with a message naming the option', (_name, options, message) => {
    expect(() => createClusterProxy(options as ClusterProxyOptions)).toThrow(InvalidOptionError);
    expect(() => createClusterProxy(options as ClusterProxyOptions)).toThrow(message);
  });

  it('accepts a resolver and a custom token store', async () => {
    const proxy = createClusterProxy({
      clusters: { resolve: () => undefined, list: () => clusters },
      tokenStore: memoryTokenStore({ max: 10 }),
    });
    expect((await proxy.listClusters()).map((c) => c.name)).toEqual(clusters.map((c) => c.name));
  });
});
