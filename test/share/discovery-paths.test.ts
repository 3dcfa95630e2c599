import { describe, expect, it } from 'vitest';
import { changesDiscovery, discoveryPath } from '../../src/share/discovery-paths.ts';
import { testExchange } from '../helpers/exchange.ts';

describe('discoveryPath', () => {
  it.each(['/api', '/apis', '/api/v1', '/apis/apps', '/apis/apps/v1', '/apis/apiextensions.k8s.io/v1', '/version', '/openapi/v2', '/openapi/v3'])('caches %s', (path) => {
    expect(discoveryPath(testExchange({ path }))).toBe(path);
  });

  it("ignores kubectl's timeout parameter, and nothing else", () => {
    expect(discoveryPath(testExchange({ path: '/api?timeout=32s' }))).toBe('/api');
    expect(discoveryPath(testExchange({ path: '/api?timeout=32s&pretty=true' }))).toBeUndefined();
    expect(discoveryPath(testExchange({ path: '/openapi/v3?hash=x' }))).toBeUndefined();
  });

  it.each([
    '/api/v1/pods',
    '/api/v1/namespaces/default/pods',
    '/apis/apps/v1/deployments',
    '/openapi/v3/apis/apps/v1',
    '/healthz',
    '/apis/',
    '/api/V1',
    '/apis/a/b/c',
    '/metrics',
  ])('does not cache %s', (path) => {
    expect(discoveryPath(testExchange({ path }))).toBeUndefined();
  });

  it('takes GETs only, without a body, never an upgrade', () => {
    expect(discoveryPath(testExchange({ path: '/apis', method: 'HEAD' }))).toBeUndefined();
    expect(discoveryPath(testExchange({ path: '/apis', method: 'POST' }))).toBeUndefined();
    expect(discoveryPath(testExchange({ path: '/apis', hasBody: true }))).toBeUndefined();
    expect(discoveryPath(testExchange({ path: '/apis', upgrade: true }))).toBeUndefined();
  });
});

describe('changesDiscovery', () => {
  it.each([
    ['POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', true],
    ['DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com', true],
    ['PATCH', '/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io', true],
    ['POST', '/api/v1/namespaces/default/configmaps', false],
    ['POST', '/apis/example.com/v1/customresourcedefinitions', false],
    ['POST', '/apis', false],
  ])('%s %s: %s', (method, path, expected) => {
    expect(changesDiscovery(testExchange({ method, path }))).toBe(expected);
  });
});
