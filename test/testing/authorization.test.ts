import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { Authorizer } from '../../src/testing/authorization.ts';
import { httpRequest, openWebSocket } from './kit-helpers.ts';

const user = (username: string, groups: string[] = []) => ({ username, groups: [...groups, 'system:authenticated'] });
const resource = (verb: string, resourceName: string, namespace = 'default', extra: { group?: string; subresource?: string; name?: string } = {}) => ({
  resourceRequest: true as const,
  verb,
  group: extra.group ?? '',
  resource: resourceName,
  subresource: extra.subresource ?? '',
  namespace,
  name: extra.name ?? '',
});

describe('Authorizer', () => {
  it('allows everything to users without rules and to system:masters', () => {
    const authorizer = new Authorizer();
    authorizer.setRules('root', []);
    expect(authorizer.allows(user('anyone'), resource('delete', 'pods'))).toBe(true);
    expect(authorizer.allows(user('root', ['system:masters']), resource('delete', 'pods'))).toBe(true);
  });

  it('matches verbs, groups, resources, subresources, names and non-resource URLs', () => {
    const authorizer = new Authorizer();
    authorizer.setRules('alice', [
      { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods', 'pods/log'] },
      { verbs: ['*'], apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['web'] },
      { verbs: ['get'], nonResourceURLs: ['/metrics/*'] },
    ]);
    const alice = user('alice');
    expect(authorizer.allows(alice, resource('list', 'pods'))).toBe(true);
    expect(authorizer.allows(alice, resource('get', 'pods', 'default', { subresource: 'log' }))).toBe(true);
    expect(authorizer.allows(alice, resource('create', 'pods', 'default', { subresource: 'exec' }))).toBe(false);
    expect(authorizer.allows(alice, resource('delete', 'pods'))).toBe(false);
    expect(authorizer.allows(alice, resource('get', 'pods', 'default', { group: 'apps' }))).toBe(false);
    expect(authorizer.allows(alice, resource('patch', 'deployments', 'default', { group: 'apps', name: 'web' }))).toBe(true);
    expect(authorizer.allows(alice, resource('patch', 'deployments', 'default', { group: 'apps', name: 'api' }))).toBe(false);
    expect(authorizer.allows(alice, resource('list', 'deployments', 'default', { group: 'apps' }))).toBe(false);
    expect(authorizer.allows(alice, { resourceRequest: false, verb: 'get', path: '/metrics/cadvisor' })).toBe(true);
    expect(authorizer.allows(alice, { resourceRequest: false, verb: 'get', path: '/version' })).toBe(true);
    expect(authorizer.allows(alice, { resourceRequest: false, verb: 'get', path: '/logs' })).toBe(false);
    expect(authorizer.allows(alice, resource('create', 'selfsubjectaccessreviews', '', { group: 'authorization.k8s.io' }))).toBe(true);
    authorizer.setRules('alice', null);
    expect(authorizer.allows(alice, resource('delete', 'pods'))).toBe(true);
  });

  it('refuses malformed rules with messages naming the rule', () => {
    const authorizer = new Authorizer();
    const bad: unknown[] = [
      'not an array',
      [null],
      [{ verbs: [] , resources: ['pods'], apiGroups: [''] }],
      [{ verbs: ['get'] }],
      [{ verbs: ['get'], resources: ['pods'], apiGroups: [''], nonResourceURLs: ['/x'] }],
      [{ verbs: ['get'], resources: 'pods', apiGroups: [''] }],
    ];
    for (const rules of bad) expect(() => authorizer.setRules('x', rules as never)).toThrow(/setRules\(\)/);
    expect(() => authorizer.setRules('', [])).toThrow(/user must be a non-empty user name/);
  });
});

describe('authorization over the API', () => {
  let fake: FakeCluster;
  beforeAll(async () => {
    fake = await startFakeCluster({ tokens: { 'alice-token': 'alice', 'admin-token': { user: 'admin', groups: ['system:masters'] } } });
    fake.setRules('alice', [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }]);
  });
  afterAll(() => fake.close());

  const asAlice = (path: string, options: { method?: string; body?: string } = {}) =>
    httpRequest(fake, path, { ...options, headers: { Authorization: 'Bearer alice-token', 'Content-Type': 'application/json' } });

  it('enforces the rules with the apiserver 403 Status', async () => {
    expect((await asAlice('/api/v1/namespaces/default/pods')).status).toBe(200);
    const denied = await asAlice('/api/v1/namespaces/default/pods/web-fake-1', { method: 'DELETE' });
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "web-fake-1" is forbidden: User "alice" cannot delete resource "pods" in API group "" in the namespace "default"',
      reason: 'Forbidden',
      details: { name: 'web-fake-1', kind: 'pods' },
      code: 403,
    });
    expect(JSON.parse((await asAlice('/apis/apps/v1/deployments')).body)).toMatchObject({
      code: 403,
      message: 'deployments.apps is forbidden: User "alice" cannot list resource "deployments" in API group "apps" at the cluster scope',
    });
    expect((await asAlice('/apis')).status).toBe(200);
  });

  it('checks exec upgrades too (create on pods/exec)', async () => {
    const attempt = await openWebSocket(fake, '/api/v1/namespaces/default/pods/web-fake-1/exec?command=ls&stdout=true', ['v5.channel.k8s.io'], { Authorization: 'Bearer alice-token' });
    expect(attempt).toMatchObject({ status: 403 });
    if ('body' in attempt) {
      expect(JSON.parse(attempt.body)).toMatchObject({
        reason: 'Forbidden',
        message: 'pods "web-fake-1" is forbidden: User "alice" cannot create resource "pods/exec" in API group "" in the namespace "default"',
      });
    }
  });

  it('answers SelfSubjectAccessReview, SubjectAccessReview and SelfSubjectRulesReview from the rules', async () => {
    const review = async (resourceName: string, spec: unknown, token = 'alice-token') => {
      const kind = { selfsubjectaccessreviews: 'SelfSubjectAccessReview', subjectaccessreviews: 'SubjectAccessReview', selfsubjectrulesreviews: 'SelfSubjectRulesReview' }[resourceName];
      const answer = await httpRequest(fake, `/apis/authorization.k8s.io/v1/${resourceName}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ kind, apiVersion: 'authorization.k8s.io/v1', spec }),
      });
      return { status: answer.status, body: JSON.parse(answer.body) as { status: Record<string, unknown> } };
    };
    const list = await review('selfsubjectaccessreviews', { resourceAttributes: { verb: 'list', resource: 'pods', namespace: 'default' } });
    expect(list).toMatchObject({ status: 201, body: { kind: 'SelfSubjectAccessReview', status: { allowed: true } } });
    expect((await review('selfsubjectaccessreviews', { resourceAttributes: { verb: 'delete', resource: 'pods' } })).body.status).toEqual({ allowed: false });
    expect((await review('selfsubjectaccessreviews', {})).status).toBe(400);
    // Asking about others needs the right to (admin has it), and answers for the user asked about.
    expect((await review('subjectaccessreviews', { user: 'alice', resourceAttributes: { verb: 'delete', resource: 'pods' } })).status).toBe(403);
    expect((await review('subjectaccessreviews', { user: 'alice', resourceAttributes: { verb: 'get', resource: 'pods' } }, 'admin-token')).body.status.allowed).toBe(true);
    expect((await review('subjectaccessreviews', { user: 'bob', resourceAttributes: { verb: 'delete', resource: 'pods' } }, 'admin-token')).body.status.allowed).toBe(true);
    const rules = await review('selfsubjectrulesreviews', { namespace: 'default' });
    expect(rules.body.status.resourceRules).toEqual(expect.arrayContaining([{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }]));
    expect(rules.body.status.incomplete).toBe(false);
  });

  it('refuses malformed review bodies', async () => {
    for (const [body, contentType] of [
      ['{"kind":', 'application/json'],
      ['{"kind":"Pod"}', 'application/json'],
      ['k8s\0\x0a\xff', 'application/vnd.kubernetes.protobuf'],
      ['not protobuf', 'application/vnd.kubernetes.protobuf'],
    ] as const) {
      const answer = await httpRequest(fake, '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        method: 'POST',
        headers: { Authorization: 'Bearer alice-token', 'Content-Type': contentType },
        body,
      });
      expect({ body, status: answer.status }).toEqual({ body, status: 400 });
    }
  });
});
