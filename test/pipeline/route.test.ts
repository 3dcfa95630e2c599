import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../src/errors.ts';
import { parseClusterPath } from '../../src/pipeline/route.ts';

describe('parseClusterPath', () => {
  it('splits mount, cluster and the upstream path, keeping the query', () => {
    expect(parseClusterPath('/clusters/prod/api/v1/pods?watch=1&labelSelector=a%3Db', '/clusters')).toEqual({
      cluster: 'prod',
      path: '/api/v1/pods?watch=1&labelSelector=a%3Db',
      pathname: '/api/v1/pods',
    });
  });

  it('maps a bare cluster path to the server root', () => {
    expect(parseClusterPath('/clusters/prod', '/clusters')?.path).toBe('/');
    expect(parseClusterPath('/clusters/prod/', '/clusters')?.path).toBe('/');
    expect(parseClusterPath('/clusters/prod?x=1', '/clusters')?.path).toBe('/?x=1');
  });

  it('decodes a percent-encoded cluster name', () => {
    expect(parseClusterPath('/clusters/my%20cluster/api', '/clusters')?.cluster).toBe('my cluster');
  });

  it('works at the root mount', () => {
    expect(parseClusterPath('/dev/version', '')).toEqual({ cluster: 'dev', path: '/version', pathname: '/version' });
  });

  it('returns undefined outside the mount path', () => {
    expect(parseClusterPath('/other/prod/api', '/clusters')).toBeUndefined();
    expect(parseClusterPath('/clustersx/prod/api', '/clusters')).toBeUndefined();
  });

  it.each([
    ['an absolute-form target', 'http://evil/clusters/prod'],
    ['no cluster', '/clusters'],
    ['empty cluster', '/clusters/'],
    ['empty cluster before path', '/clusters//api'],
    ['dot cluster', '/clusters/./api'],
    ['dot-dot cluster', '/clusters/../api'],
    ['encoded dot-dot cluster', '/clusters/%2e%2e/api'],
    ['encoded slash in cluster', '/clusters/a%2Fb/api'],
    ['encoded backslash in cluster', '/clusters/a%5cb/api'],
    ['control character in cluster', '/clusters/a%00b/api'],
    ['bad percent-encoding in cluster', '/clusters/%zz/api'],
    ['overlong cluster name', `/clusters/${'a'.repeat(254)}/api`],
    ['dot-dot in path', '/clusters/prod/api/../../etc'],
    ['encoded dot-dot in path', '/clusters/prod/api/%2E%2E/x'],
    ['mixed encoded dot-dot in path', '/clusters/prod/api/.%2e/x'],
    ['encoded slash in path', '/clusters/prod/api%2F..%2Fx'],
    ['backslash in path', '/clusters/prod/api\\..\\x'],
    ['bad percent-encoding in path', '/clusters/prod/api/%E0%A4%A'],
  ])('refuses %s', (_name, target) => {
    expect(() => parseClusterPath(target, '/clusters')).toThrow(BadRequestError);
  });
});
