import { describe, expect, it } from 'vitest';
import { parseRequestInfo, type RequestInfo } from '../../src/pipeline/request-info.ts';

type Expected = Partial<Omit<RequestInfo, 'parts'>> & { parts?: string[] };

const NS = '/api/v1/namespaces/default';
const POD = `${NS}/pods/web-1`;
const DEPLOYMENTS = '/apis/apps/v1/namespaces/default/deployments';

/** Paths of the Kubernetes API reference and what kube-apiserver's RequestInfoFactory makes of them. */
const RESOURCE_REQUESTS: [string, string, Expected][] = [
  // Core group, namespaced, every verb.
  ['GET', `${NS}/pods`, { verb: 'list', apiPrefix: 'api', apiGroup: '', apiVersion: 'v1', namespace: 'default', resource: 'pods', name: '', parts: ['pods'] }],
  ['GET', POD, { verb: 'get', namespace: 'default', resource: 'pods', name: 'web-1', subresource: '', parts: ['pods', 'web-1'] }],
  ['HEAD', POD, { verb: 'get', name: 'web-1' }],
  ['POST', `${NS}/pods`, { verb: 'create', resource: 'pods', name: '' }],
  ['PUT', POD, { verb: 'update', name: 'web-1' }],
  ['PATCH', POD, { verb: 'patch', name: 'web-1' }],
  ['DELETE', POD, { verb: 'delete', name: 'web-1' }],
  ['DELETE', `${NS}/pods`, { verb: 'deletecollection', resource: 'pods', name: '' }],
  ['OPTIONS', `${NS}/pods`, { verb: '', resource: 'pods' }],
  ['GET', '/api/v1/pods', { verb: 'list', namespace: '', resource: 'pods' }],
  ['POST', `${NS}/bindings`, { verb: 'create', resource: 'bindings' }],
  // Watch: the query, both spellings, and the legacy prefix.
  ['GET', '/api/v1/pods?watch=1', { verb: 'watch', namespace: '', resource: 'pods' }],
  ['GET', `${NS}/pods?watch=true&resourceVersion=10`, { verb: 'watch', namespace: 'default' }],
  ['GET', `${NS}/pods?watch=false`, { verb: 'list' }],
  ['GET', `${NS}/pods?watch=0`, { verb: 'list' }],
  ['GET', `${NS}/pods?watch=FALSE`, { verb: 'list' }],
  ['GET', `${NS}/pods?watch`, { verb: 'watch' }],
  ['GET', `${NS}/pods?labelSelector=app%3Dweb&watch=yes`, { verb: 'watch' }],
  ['GET', `${POD}?watch=1`, { verb: 'get', name: 'web-1' }],
  ['GET', '/api/v1/watch/namespaces/default/pods', { verb: 'watch', namespace: 'default', resource: 'pods', name: '', parts: ['pods'] }],
  ['GET', '/api/v1/watch/namespaces/default/pods/web-1', { verb: 'watch', resource: 'pods', name: 'web-1' }],
  ['GET', '/api/v1/watch/pods', { verb: 'watch', namespace: '', resource: 'pods' }],
  ['GET', '/apis/apps/v1/watch/namespaces/default/deployments', { verb: 'watch', apiGroup: 'apps', resource: 'deployments' }],
  // Cluster-scoped resources.
  ['GET', '/api/v1/nodes', { verb: 'list', namespace: '', resource: 'nodes' }],
  ['GET', '/api/v1/nodes/node-1', { verb: 'get', namespace: '', resource: 'nodes', name: 'node-1' }],
  ['PATCH', '/api/v1/nodes/node-1/status', { verb: 'patch', resource: 'nodes', name: 'node-1', subresource: 'status' }],
  ['GET', '/api/v1/persistentvolumes', { verb: 'list', resource: 'persistentvolumes' }],
  // namespaces itself: its name is also its namespace; status and finalize are its subresources.
  ['GET', '/api/v1/namespaces', { verb: 'list', namespace: '', resource: 'namespaces', name: '' }],
  ['POST', '/api/v1/namespaces', { verb: 'create', resource: 'namespaces' }],
  ['GET', '/api/v1/namespaces/prod', { verb: 'get', namespace: 'prod', resource: 'namespaces', name: 'prod', parts: ['namespaces', 'prod'] }],
  ['DELETE', '/api/v1/namespaces/prod', { verb: 'delete', namespace: 'prod', resource: 'namespaces', name: 'prod' }],
  ['PUT', '/api/v1/namespaces/prod/finalize', { verb: 'update', namespace: 'prod', resource: 'namespaces', name: 'prod', subresource: 'finalize' }],
  ['GET', '/api/v1/namespaces/prod/status', { verb: 'get', resource: 'namespaces', name: 'prod', subresource: 'status', parts: ['namespaces', 'prod', 'status'] }],
  // Streaming subresources: WebSocket is GET, SPDY is POST.
  ['GET', `${POD}/exec?command=sh&stdin=true&tty=true`, { verb: 'get', resource: 'pods', name: 'web-1', subresource: 'exec' }],
  ['POST', `${POD}/exec?command=ls`, { verb: 'create', resource: 'pods', name: 'web-1', subresource: 'exec' }],
  ['GET', `${POD}/attach?stdout=true`, { verb: 'get', subresource: 'attach' }],
  ['POST', `${POD}/attach`, { verb: 'create', subresource: 'attach' }],
  ['GET', `${POD}/portforward?ports=8080`, { verb: 'get', subresource: 'portforward' }],
  ['POST', `${POD}/portforward`, { verb: 'create', subresource: 'portforward' }],
  ['GET', `${POD}/log?follow=true&container=app`, { verb: 'get', subresource: 'log', name: 'web-1' }],
  ['GET', `${POD}/ephemeralcontainers`, { verb: 'get', subresource: 'ephemeralcontainers' }],
  ['POST', `${POD}/eviction`, { verb: 'create', subresource: 'eviction' }],
  ['POST', `${NS}/serviceaccounts/default/token`, { verb: 'create', resource: 'serviceaccounts', name: 'default', subresource: 'token' }],
  // proxy: as a subresource the rest of the path is kept; as the legacy verb there is no subresource.
  ['GET', `${POD}/proxy/healthz/ready`, { verb: 'get', subresource: 'proxy', parts: ['pods', 'web-1', 'proxy', 'healthz', 'ready'] }],
  ['GET', '/api/v1/nodes/node-1/proxy/metrics', { verb: 'get', resource: 'nodes', name: 'node-1', subresource: 'proxy' }],
  ['GET', `${NS}/services/https:web:443/proxy/api/`, { resource: 'services', name: 'https:web:443', subresource: 'proxy', parts: ['services', 'https:web:443', 'proxy', 'api'] }],
  ['GET', '/api/v1/proxy/namespaces/default/pods/web-1/some/path', { verb: 'proxy', resource: 'pods', name: 'web-1', subresource: '', parts: ['pods', 'web-1', 'some', 'path'] }],
  // Named groups.
  ['GET', DEPLOYMENTS, { verb: 'list', apiPrefix: 'apis', apiGroup: 'apps', apiVersion: 'v1', namespace: 'default', resource: 'deployments' }],
  ['GET', `${DEPLOYMENTS}/web/scale`, { verb: 'get', resource: 'deployments', name: 'web', subresource: 'scale' }],
  ['PUT', `${DEPLOYMENTS}/web/scale`, { verb: 'update', subresource: 'scale' }],
  ['PATCH', `${DEPLOYMENTS}/web/status`, { verb: 'patch', subresource: 'status' }],
  ['GET', '/apis/apps/v1/deployments?watch=1', { verb: 'watch', namespace: '', resource: 'deployments' }],
  ['GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles', { verb: 'list', apiGroup: 'rbac.authorization.k8s.io', namespace: '', resource: 'clusterroles' }],
  ['GET', '/apis/storage.k8s.io/v1/storageclasses/standard', { verb: 'get', apiGroup: 'storage.k8s.io', resource: 'storageclasses', name: 'standard' }],
  ['PUT', '/apis/certificates.k8s.io/v1/certificatesigningrequests/csr-1/approval', { verb: 'update', name: 'csr-1', subresource: 'approval' }],
  ['POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { verb: 'create', apiGroup: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' }],
  ['POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { verb: 'create', resource: 'selfsubjectreviews' }],
  ['GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods', { verb: 'list', apiGroup: 'metrics.k8s.io', apiVersion: 'v1beta1', resource: 'pods' }],
  ['GET', '/apis/example.com/v1alpha1/namespaces/team-a/widgets/w1', { verb: 'get', apiGroup: 'example.com', apiVersion: 'v1alpha1', namespace: 'team-a', resource: 'widgets', name: 'w1' }],
  // A field selector on metadata.name names the object of a list or watch (kubectl get pod x -w).
  ['GET', '/apis/batch/v1/namespaces/default/jobs?fieldSelector=metadata.name%3Dmigrate', { verb: 'list', resource: 'jobs', name: 'migrate' }],
  ['GET', `${NS}/pods?fieldSelector=metadata.name%3D%3Dweb-1%2Cstatus.phase%3DRunning`, { verb: 'list', name: 'web-1' }],
  ['GET', `${NS}/pods?watch=1&fieldSelector=metadata.name%3Dweb-1`, { verb: 'watch', name: 'web-1' }],
  ['GET', `${NS}/pods?fieldSelector=metadata.name!%3Dweb-1`, { verb: 'list', name: '' }],
  ['GET', `${NS}/pods?fieldSelector=spec.nodeName%3Dnode-1`, { verb: 'list', name: '' }],
  ['GET', '/api/v1/namespaces?fieldSelector=metadata.name%3Dprod', { verb: 'list', namespace: '', resource: 'namespaces', name: 'prod' }],
  ['GET', '/api/v1/watch/namespaces/default/pods?fieldSelector=metadata.name%3Dweb-1', { verb: 'watch', name: '' }],
];

const NON_RESOURCE_REQUESTS: [string, string, string][] = [
  ['GET', '/version', 'get'],
  ['GET', '/api', 'get'],
  ['GET', '/api/', 'get'],
  ['GET', '/apis', 'get'],
  ['GET', '/apis/apps', 'get'],
  ['GET', '/api/v1', 'get'],
  ['GET', '/apis/apps/v1', 'get'],
  ['GET', '/healthz', 'get'],
  ['GET', '/livez?verbose', 'get'],
  ['GET', '/readyz/etcd', 'get'],
  ['GET', '/openapi/v2', 'get'],
  ['GET', '/openapi/v3', 'get'],
  ['GET', '/openapi/v3/apis/apps/v1?hash=0123', 'get'],
  ['GET', '/metrics', 'get'],
  ['GET', '/logs/kube-apiserver.log', 'get'],
  ['GET', '/', 'get'],
  ['HEAD', '/healthz', 'head'],
  ['POST', '/version', 'post'],
  ['OPTIONS', '/apis', 'options'],
  ['PROPFIND', '/apis', 'propfind'],
];

describe('parseRequestInfo', () => {
  it.each(RESOURCE_REQUESTS)('%s %s', (method, path, expected) => {
    const info = parseRequestInfo(method, path);
    expect(info).toMatchObject({ isResourceRequest: true, ...expected });
    expect(info.parts[0]).toBe(info.resource);
  });

  it('has at least 40 resource paths in its table', () => {
    expect(RESOURCE_REQUESTS.length).toBeGreaterThanOrEqual(40);
  });

  it.each(NON_RESOURCE_REQUESTS)('%s %s is a non-resource request', (method, path, verb) => {
    expect(parseRequestInfo(method, path)).toEqual({
      isResourceRequest: false,
      path: path.split('?')[0],
      verb,
      apiPrefix: '',
      apiGroup: '',
      apiVersion: '',
      namespace: '',
      resource: '',
      subresource: '',
      name: '',
      parts: [],
    });
  });

  it('gives the whole info for a namespaced subresource', () => {
    expect(parseRequestInfo('POST', `${POD}/exec?command=sh`)).toEqual({
      isResourceRequest: true,
      path: `${POD}/exec`,
      verb: 'create',
      apiPrefix: 'api',
      apiGroup: '',
      apiVersion: 'v1',
      namespace: 'default',
      resource: 'pods',
      subresource: 'exec',
      name: 'web-1',
      parts: ['pods', 'web-1', 'exec'],
    });
  });

  describe('the query', () => {
    it('may be given apart, as a string with or without "?", or as URLSearchParams', () => {
      expect(parseRequestInfo('GET', `${NS}/pods`, 'watch=1').verb).toBe('watch');
      expect(parseRequestInfo('GET', `${NS}/pods`, '?watch=1').verb).toBe('watch');
      expect(parseRequestInfo('GET', `${NS}/pods`, new URLSearchParams({ watch: 'true', fieldSelector: 'metadata.name=a' }))).toMatchObject({ verb: 'watch', name: 'a' });
      expect(parseRequestInfo('GET', `${NS}/pods`, new URLSearchParams())).toMatchObject({ verb: 'list' });
    });

    it('given apart, wins over one left in the path (which is still cut off)', () => {
      expect(parseRequestInfo('GET', `${NS}/pods?watch=1`, 'watch=0')).toMatchObject({ verb: 'list', path: `${NS}/pods` });
    });

    it('reads the query as the API server does: Go rules, first value, field-selector name', () => {
      expect(parseRequestInfo('GET', `${NS}/pods?w%61tch=1`).verb).toBe('watch');
      expect(parseRequestInfo('GET', `${NS}/pods?watch=1;x=y`).verb).toBe('list');
      expect(parseRequestInfo('GET', `${NS}/pods?watch=0&watch=1`).verb).toBe('list');
      expect(parseRequestInfo('GET', `${NS}/pods?fieldSelector=metadata.name%3Da%5C%2Cb`).name).toBe('a,b');
      expect(parseRequestInfo('GET', `${NS}/pods?fieldSelector=metadata.name%3Da%2Fb`).name).toBe('');
    });
  });

  describe('malformed and odd input', () => {
    it.each(['', '/', '//', '///', '?', '?watch=1', 'version', '/api?x', '/apis/apps/', '/api/v1/watch', '/api/v1/proxy', '/apis/apps/v1/watch', '/api/v1/watch/'])(
      '%j is a non-resource request',
      (path) => {
        const info = parseRequestInfo('GET', path);
        expect(info).toMatchObject({ isResourceRequest: false, verb: 'get', resource: '', parts: [] });
      },
    );

    it('decodes the path before splitting it, as the API server does, so an escape hides no subresource', () => {
      expect(parseRequestInfo('GET', `${POD}/%65xec`)).toMatchObject({ resource: 'pods', subresource: 'exec', path: `${POD}/exec` });
      expect(parseRequestInfo('POST', `${NS}/pods%2Fweb-1%2Fexec`)).toMatchObject({ resource: 'pods', name: 'web-1', subresource: 'exec' });
      expect(parseRequestInfo('GET', '/%61pi/v1/pods')).toMatchObject({ isResourceRequest: true, resource: 'pods' });
      expect(parseRequestInfo('GET', `${NS}/pods/a+b`).name).toBe('a+b');
      expect(parseRequestInfo('GET', '/api/v1/namespaces/d%C3%A9v/pods').namespace).toBe('dév');
    });

    it('reads bytes that are not UTF-8 as replacement characters, keeping the structure', () => {
      expect(parseRequestInfo('GET', '/api/v1/namespaces/%ff/pods%2Fx')).toMatchObject({ namespace: '\uFFFD', resource: 'pods', name: 'x' });
    });

    it.each(['/api/v1/pods/%', '/api/v1/pods/%zz', '/api/v1/pods/%4', '/api/v1/namespaces/default/pods/web-1/%6'])(
      'a bad escape (%j: Go answers 400) is a non-resource request',
      (path) => {
        expect(parseRequestInfo('GET', path)).toMatchObject({ isResourceRequest: false, verb: 'get', path });
      },
    );

    it('trims slashes at both ends and keeps inner empty segments, as the API server splits', () => {
      expect(parseRequestInfo('GET', '///api/v1/pods//')).toMatchObject({ isResourceRequest: true, resource: 'pods', verb: 'list' });
      expect(parseRequestInfo('GET', `${NS}/pods//exec`)).toMatchObject({ resource: 'pods', name: '', subresource: 'exec', verb: 'list' });
      expect(parseRequestInfo('GET', '/api//v1/pods')).toMatchObject({ apiVersion: '', resource: 'v1', name: 'pods' });
    });

    it('maps only uppercase methods to verbs, as Go does; non-resource verbs are lowercased', () => {
      expect(parseRequestInfo('get', `${NS}/pods`).verb).toBe('');
      expect(parseRequestInfo('get', '/version').verb).toBe('get');
      expect(parseRequestInfo('Brew', '/coffee').verb).toBe('brew');
    });

    it('survives values of the wrong type from JavaScript callers', () => {
      const call = parseRequestInfo as (...args: unknown[]) => RequestInfo;
      expect(call(undefined, undefined)).toMatchObject({ isResourceRequest: false, path: '', verb: '' });
      expect(call(42, { path: '/api/v1/pods' }, 7)).toMatchObject({ isResourceRequest: false });
      expect(call('GET', `${NS}/pods`, { watch: '1' })).toMatchObject({ verb: 'list' });
      expect(call('GET', `${NS}/pods?watch=1`, null)).toMatchObject({ verb: 'list' });
    });

    it('handles very long paths and queries', () => {
      const many = parseRequestInfo('GET', `${POD}/proxy/${'a/'.repeat(100_000)}`);
      expect(many).toMatchObject({ resource: 'pods', subresource: 'proxy' });
      expect(many.parts).toHaveLength(100_003);
      const long = 'x'.repeat(1_000_000);
      expect(parseRequestInfo('GET', `${NS}/pods/${long}`).name).toHaveLength(1_000_000);
      expect(parseRequestInfo('GET', `/${'%2F'.repeat(100_000)}`)).toMatchObject({ isResourceRequest: false });
      expect(parseRequestInfo('GET', `${NS}/pods`, `${'x=1&'.repeat(100_000)}watch=1`).verb).toBe('watch');
      expect(parseRequestInfo('GET', `${NS}/pods`, `fieldSelector=${'a=b,'.repeat(50_000)}metadata.name=z`).name).toBe('z');
    });

    it('never throws on random input, and keeps its invariants', () => {
      // A fixed seed: the same 5000 inputs every run.
      let seed = 0x2545f491;
      const random = (n: number) => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed % n;
      };
      const pieces = ['/', '/', 'api', 'apis', 'v1', 'apps', 'namespaces', 'default', 'pods', 'watch', 'proxy', 'exec', 'status', '%', '%2F', '%zz', '%ff', '%C3', '?', '&', '=', 'watch=1', 'fieldSelector=metadata.name%3D', '\\', ',', '\uD800', 'é', '.', '..', ' '];
      const methods = ['GET', 'POST', 'DELETE', 'HEAD', 'get', '', 'X'];
      for (let i = 0; i < 5000; i++) {
        let path = '';
        for (let n = random(14); n > 0; n--) path += pieces[random(pieces.length)];
        const method = methods[random(methods.length)]!;
        const info = parseRequestInfo(method, path);
        if (info.isResourceRequest) {
          expect(info.parts[0]).toBe(info.resource);
          expect(['api', 'apis']).toContain(info.apiPrefix);
        } else {
          expect(info.parts).toHaveLength(0);
          expect(info.verb).toBe(method.toLowerCase());
        }
      }
    });
  });
});
