import { describe, expect, it, vi } from 'vitest';
import { parseRequestInfo } from '../../src/pipeline/request-info.ts';
import type { UserInfo } from '../../src/pipeline/user.ts';
import { decide } from '../../src/policy/decide.ts';
import type { Policy, PolicyDecision } from '../../src/policy/policy.ts';
import { combinePolicies, validatePolicy } from '../../src/policy/validate-policy.ts';

const alice: UserInfo = { name: 'alice', groups: ['dev'], kind: 'impersonated', source: 'verified-token' };
const olga: UserInfo = { name: 'olga', groups: ['ops', 'dev'], kind: 'impersonated', source: 'session' };
const nobody: UserInfo = { name: undefined, groups: [], kind: 'user', source: 'unknown' };

const NS = '/api/v1/namespaces/default';
const POD = `${NS}/pods/web-1`;
const DEPLOY = '/apis/apps/v1/namespaces/default/deployments/web';

/** Synchronous decisions only: a policy without an async authorize must not return a promise. */
function check(policy: Policy | undefined, method: string, path: string, user: UserInfo = alice): PolicyDecision {
  const compiled = policy === undefined ? undefined : validatePolicy(policy, 'clusters[0].policy');
  const decision = decide(compiled, parseRequestInfo(method, path), user, 'prod');
  if (decision instanceof Promise) throw new Error('expected a synchronous decision');
  return decision;
}

type Case = [string, Policy | undefined, string, string, UserInfo, true | RegExp];

const CASES: Case[] = [
  ['no policy allows', undefined, 'DELETE', POD, alice, true],
  ['an empty policy allows', {}, 'POST', `${POD}/exec`, alice, true],
  // readOnly
  ['readOnly: get', { readOnly: true }, 'GET', POD, alice, true],
  ['readOnly: HEAD', { readOnly: true }, 'HEAD', POD, alice, true],
  ['readOnly: list', { readOnly: true }, 'GET', `${NS}/pods`, alice, true],
  ['readOnly: watch', { readOnly: true }, 'GET', `${NS}/pods?watch=1`, alice, true],
  ['readOnly: legacy watch', { readOnly: true }, 'GET', '/api/v1/watch/namespaces/default/pods', alice, true],
  ['readOnly: /version', { readOnly: true }, 'GET', '/version', alice, true],
  ['readOnly: HEAD /healthz', { readOnly: true }, 'HEAD', '/healthz', alice, true],
  ['readOnly: discovery', { readOnly: true }, 'GET', '/apis/apps/v1', alice, true],
  ['readOnly: logs', { readOnly: true }, 'GET', `${POD}/log?follow=true`, alice, true],
  ['readOnly: get scale', { readOnly: true }, 'GET', `${DEPLOY}/scale`, alice, true],
  ['readOnly: create', { readOnly: true }, 'POST', `${NS}/pods`, alice, /cluster "prod" is read-only .*clusters\[0\]\.policy\.readOnly.*create pods in namespace "default" is not a read/],
  ['readOnly: update', { readOnly: true }, 'PUT', POD, alice, /read-only/],
  ['readOnly: patch', { readOnly: true }, 'PATCH', POD, alice, /read-only/],
  ['readOnly: delete', { readOnly: true }, 'DELETE', POD, alice, /delete pods "web-1"/],
  ['readOnly: deletecollection', { readOnly: true }, 'DELETE', `${NS}/pods`, alice, /deletecollection pods/],
  ['readOnly: WebSocket exec over GET', { readOnly: true }, 'GET', `${POD}/exec?command=sh`, alice, /exec into pod "web-1" .*not reads, even over a WebSocket GET/],
  ['readOnly: SPDY exec over POST', { readOnly: true }, 'POST', `${POD}/exec?command=sh`, alice, /exec into pod "web-1"/],
  ['readOnly: WebSocket attach', { readOnly: true }, 'GET', `${POD}/attach`, alice, /attach to pod/],
  ['readOnly: WebSocket port-forward', { readOnly: true }, 'GET', `${POD}/portforward?ports=80`, alice, /port-forward to pod/],
  ['readOnly: node proxy GET', { readOnly: true }, 'GET', '/api/v1/nodes/n1/proxy/metrics', alice, /proxy subresource reaches/],
  ['readOnly: legacy proxy verb', { readOnly: true }, 'GET', '/api/v1/proxy/namespaces/default/pods/web-1/', alice, /proxy pods "web-1"/],
  ['readOnly: unknown subresource GET', { readOnly: true }, 'GET', '/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachineinstances/vm/vnc', alice, /read-only/],
  ['readOnly: non-resource POST', { readOnly: true }, 'POST', '/version', alice, /POST "\/version" is not a read/],
  ['readOnly: access review (a create)', { readOnly: true }, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', alice, /read-only/],
  ['readOnly: put scale', { readOnly: true }, 'PUT', `${DEPLOY}/scale`, alice, /update deployments\/scale "web" in API group "apps"/],
  // deny: subresources, both transports
  ['deny pods/exec: WebSocket', { deny: [{ resources: ['pods/exec'] }] }, 'GET', `${POD}/exec?command=sh`, alice, /denies exec into pod "web-1" in namespace "default" on cluster "prod" \(clusters\[0\]\.policy\.deny\[0\]\)/],
  ['deny pods/exec: SPDY', { deny: [{ resources: ['pods/exec'] }] }, 'POST', `${POD}/exec`, alice, /denies exec into pod/],
  ['deny pods/exec: the pod itself goes', { deny: [{ resources: ['pods/exec'] }] }, 'GET', POD, alice, true],
  ['deny create pods/exec catches WebSocket exec (GET)', { deny: [{ verbs: ['create'], resources: ['pods/exec'] }] }, 'GET', `${POD}/exec`, alice, /denies/],
  ['deny get pods/exec catches SPDY exec (POST)', { deny: [{ verbs: ['get'], resources: ['pods/exec'] }] }, 'POST', `${POD}/exec`, alice, /denies/],
  ['deny create pods/exec leaves logs', { deny: [{ verbs: ['create'], resources: ['pods/exec'] }] }, 'GET', `${POD}/log`, alice, true],
  ['deny port-forward over GET', { deny: [{ resources: ['pods/portforward'] }] }, 'GET', `${POD}/portforward?ports=5432`, alice, /port-forward to pod/],
  ['deny port-forward over POST', { deny: [{ resources: ['pods/portforward'] }] }, 'POST', `${POD}/portforward`, alice, /denies/],
  ['deny with a reason', { deny: [{ resources: ['pods/exec', 'pods/attach'], reason: 'no shells in prod: use the runbook job' }] }, 'GET', `${POD}/attach`, alice, /^no shells in prod: use the runbook job$/],
  ['deny logs', { deny: [{ resources: ['pods/log'] }] }, 'GET', `${POD}/log`, alice, /denies get pods\/log "web-1"/],
  ['deny pods/*: any subresource', { deny: [{ resources: ['pods/*'] }] }, 'GET', `${POD}/log`, alice, /denies/],
  ['deny pods/*: not the pod', { deny: [{ resources: ['pods/*'] }] }, 'DELETE', POD, alice, true],
  ['deny pods: not its subresources', { deny: [{ resources: ['pods'] }] }, 'POST', `${POD}/exec`, alice, true],
  ['deny */scale: deployments', { deny: [{ resources: ['*/scale'] }] }, 'PUT', `${DEPLOY}/scale`, alice, /denies update deployments\/scale/],
  ['deny */scale: statefulsets', { deny: [{ resources: ['*/scale'] }] }, 'PATCH', '/apis/apps/v1/namespaces/default/statefulsets/db/scale', alice, /denies/],
  ['deny */scale: not the deployment', { deny: [{ resources: ['*/scale'] }] }, 'PUT', DEPLOY, alice, true],
  ['deny */*: any subresource', { deny: [{ resources: ['*/*'] }] }, 'GET', '/api/v1/nodes/n1/status', alice, /denies/],
  ['deny *: everything in a namespace', { deny: [{ resources: ['*'], namespaces: ['kube-system'] }] }, 'GET', '/api/v1/namespaces/kube-system/secrets', alice, /in namespace "kube-system"/],
  ['deny a namespace: others go', { deny: [{ namespaces: ['kube-system'] }] }, 'GET', `${NS}/secrets`, alice, true],
  ['deny a namespace: namespaces/<ns> itself', { deny: [{ namespaces: ['kube-system'] }] }, 'DELETE', '/api/v1/namespaces/kube-system', alice, /denies delete namespaces "kube-system"/],
  ['deny a namespace: cluster-scoped goes', { deny: [{ namespaces: ['kube-system'] }] }, 'GET', '/api/v1/nodes', alice, true],
  ["deny namespaces ['']: cluster-scoped", { deny: [{ namespaces: [''] }] }, 'DELETE', '/api/v1/nodes/n1', alice, /denies/],
  ["deny namespaces ['']: all-namespace lists", { deny: [{ namespaces: [''] }] }, 'GET', '/api/v1/pods', alice, /denies/],
  ["deny namespaces ['']: namespaced goes", { deny: [{ namespaces: [''] }] }, 'GET', `${NS}/pods`, alice, true],
  ['deny an API group and verbs', { deny: [{ apiGroups: ['rbac.authorization.k8s.io'], verbs: ['create', 'update', 'patch', 'delete'] }] }, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', alice, /in API group "rbac.authorization.k8s.io"/],
  ['deny an API group: reads go', { deny: [{ apiGroups: ['rbac.authorization.k8s.io'], verbs: ['create'] }] }, 'GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles', alice, true],
  ["deny the core group ''", { deny: [{ apiGroups: [''], verbs: ['delete'] }] }, 'DELETE', POD, alice, /denies/],
  ["deny the core group '': apps goes", { deny: [{ apiGroups: [''], verbs: ['delete'] }] }, 'DELETE', DEPLOY, alice, true],
  // users and groups
  ['deny a user: that user', { deny: [{ users: ['alice'] }] }, 'GET', POD, alice, /denies/],
  ['deny a user: another', { deny: [{ users: ['alice'] }] }, 'GET', POD, olga, true],
  ['deny a user: an unknown user', { deny: [{ users: ['alice'] }] }, 'GET', POD, nobody, true],
  ["deny users ['*']: an unknown user too", { deny: [{ users: ['*'], verbs: ['delete'] }] }, 'DELETE', POD, nobody, /denies/],
  ['deny a group', { deny: [{ groups: ['dev'], resources: ['secrets'] }] }, 'GET', `${NS}/secrets/db`, olga, /denies get secrets "db"/],
  ['deny a group: not a member', { deny: [{ groups: ['contractors'], resources: ['secrets'] }] }, 'GET', `${NS}/secrets/db`, olga, true],
  // resource and non-resource rules
  ['deny nonResourceURLs: the URL', { deny: [{ nonResourceURLs: ['/metrics', '/debug/*'] }] }, 'GET', '/debug/pprof/heap', alice, /denies GET "\/debug\/pprof\/heap"/],
  ['deny nonResourceURLs: never a resource request', { deny: [{ nonResourceURLs: ['*'] }] }, 'GET', POD, alice, true],
  ['deny resources: never a non-resource request', { deny: [{ resources: ['*'] }] }, 'GET', '/version', alice, true],
  ['deny verbs only: resource requests', { deny: [{ verbs: ['delete', 'deletecollection'] }] }, 'DELETE', `${NS}/pods`, alice, /denies deletecollection pods/],
  ['deny verbs only: non-resource too', { deny: [{ verbs: ['post'] }] }, 'POST', '/version', alice, /denies POST/],
  ['deny {}: everything', { deny: [{}] }, 'GET', '/version', alice, /denies/],
  ['deny comes before readOnly', { readOnly: true, deny: [{ resources: ['pods/log'], reason: 'logs hold customer data' }] }, 'GET', `${POD}/log`, alice, /^logs hold customer data$/],
  // allow
  ['allow: a read matches', { allow: [{ verbs: ['get', 'list', 'watch'] }, { groups: ['ops'] }] }, 'GET', `${NS}/pods`, alice, true],
  ['allow: nothing matches', { allow: [{ verbs: ['get', 'list', 'watch'] }, { groups: ['ops'] }] }, 'DELETE', POD, alice, /does not allow delete pods "web-1" in namespace "default" on cluster "prod": no rule in clusters\[0\]\.policy\.allow matches it/],
  ['allow: the group rule', { allow: [{ verbs: ['get', 'list', 'watch'] }, { groups: ['ops'] }] }, 'DELETE', POD, olga, true],
  ['allow create pods/exec: WebSocket exec (GET)', { allow: [{ verbs: ['create'], resources: ['pods/exec'] }] }, 'GET', `${POD}/exec`, alice, true],
  ['allow create pods/exec: SPDY exec', { allow: [{ verbs: ['create'], resources: ['pods/exec'] }] }, 'POST', `${POD}/exec`, alice, true],
  ['allow get pods/exec: not WebSocket exec', { allow: [{ verbs: ['get'], resources: ['pods/exec'] }] }, 'GET', `${POD}/exec`, alice, /does not allow exec into pod/],
  ['allow nonResourceURLs: exact', { allow: [{ nonResourceURLs: ['/version', '/openapi/*'] }] }, 'GET', '/version', alice, true],
  ['allow nonResourceURLs: prefix', { allow: [{ nonResourceURLs: ['/version', '/openapi/*'] }] }, 'GET', '/openapi/v3/apis/apps/v1', alice, true],
  ['allow nonResourceURLs: others', { allow: [{ nonResourceURLs: ['/version', '/openapi/*'] }] }, 'GET', '/healthz', alice, /does not allow GET "\/healthz"/],
  ['allow within readOnly: both must pass', { readOnly: true, allow: [{ namespaces: ['default'] }] }, 'GET', '/api/v1/namespaces/other/pods', alice, /no rule in .*allow/],
];

describe('decide', () => {
  it.each(CASES)('%s', (_name, policy, method, path, user, expected) => {
    const decision = check(policy, method, path, user);
    if (expected === true) expect(decision).toEqual({ allowed: true });
    else {
      expect(decision.allowed).toBe(false);
      expect(decision.allowed === false && decision.reason).toMatch(expected);
    }
  });

  it('quotes names in reasons, so a crafted name cannot break the message', () => {
    const decision = check({ deny: [{}] }, 'GET', `${NS}/pods/a%22%0Ab`);
    expect(decision.allowed === false && decision.reason).toContain('pods "a\\"\\nb"');
    const long = check({ deny: [{}] }, 'GET', `/x/${'y'.repeat(10_000)}`);
    expect(long.allowed === false && long.reason.length).toBeLessThan(600);
  });

  describe('authorize', () => {
    const pods = parseRequestInfo('GET', `${NS}/pods`);
    const run = (authorize: NonNullable<Policy['authorize']>, policy: Policy = {}) =>
      decide(validatePolicy({ ...policy, authorize }, 'policy'), pods, alice, 'prod');
    const runSync = (authorize: NonNullable<Policy['authorize']>): PolicyDecision => {
      const decision = run(authorize);
      if (decision instanceof Promise) throw new Error('expected a synchronous decision');
      return decision;
    };

    it('gets the request info, the user and the cluster', () => {
      const authorize = vi.fn(() => true);
      expect(run(authorize)).toEqual({ allowed: true });
      expect(authorize).toHaveBeenCalledWith(pods, alice, 'prod');
    });

    it('true allows, false denies with a default reason, a string with that reason, synchronously', () => {
      expect(run(() => true)).toEqual({ allowed: true });
      expect(run(() => false)).toEqual({ allowed: false, reason: 'the proxy\'s policy (policy.authorize) denies list pods in namespace "default" on cluster "prod"' });
      expect(run(() => 'ask #platform for prod access')).toEqual({ allowed: false, reason: 'ask #platform for prod access' });
      expect(run(() => '')).toMatchObject({ allowed: false, reason: expect.stringContaining('policy.authorize') });
    });

    it('async answers give a promise of the same decisions', async () => {
      const allowed = run(() => Promise.resolve(true));
      expect(allowed).toBeInstanceOf(Promise);
      await expect(allowed).resolves.toEqual({ allowed: true });
      await expect(run(() => Promise.resolve('not during the freeze'))).resolves.toEqual({ allowed: false, reason: 'not during the freeze' });
      await expect(run(() => Promise.resolve(false))).resolves.toMatchObject({ allowed: false });
    });

    it('a throw or a rejection denies with a generic reason and keeps the error for the logs', async () => {
      const boom = new Error('ldap down: secret=hunter2');
      const thrown = runSync(() => {
        throw boom;
      });
      expect(thrown).toEqual({ allowed: false, reason: expect.stringContaining('could not check whether list pods'), error: boom });
      expect(thrown.allowed === false && 'reason' in thrown && thrown.reason).not.toContain('hunter2');
      await expect(run(() => Promise.reject(boom))).resolves.toEqual({ allowed: false, reason: expect.stringContaining('authorize function failed'), error: boom });
      const nothing = run(() => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- what a careless host might do
        throw undefined;
      });
      expect(nothing).toMatchObject({ allowed: false, error: expect.any(Error) });
    });

    it('any other answer (a forgotten return) denies', async () => {
      const forgot = runSync((() => undefined) as unknown as () => boolean);
      expect(forgot).toMatchObject({ allowed: false, error: expect.any(TypeError) });
      expect(forgot.allowed === false && String(forgot.error)).toContain('returned undefined');
      await expect(run((() => Promise.resolve(1)) as unknown as () => Promise<boolean>)).resolves.toMatchObject({ allowed: false, error: expect.any(TypeError) });
    });

    it('is not called when the rules already deny', () => {
      const authorize = vi.fn(() => true);
      expect(run(authorize, { deny: [{ resources: ['pods'] }] })).toMatchObject({ allowed: false });
      expect(run(authorize, { readOnly: true, allow: [{ namespaces: ['other'] }] })).toMatchObject({ allowed: false });
      expect(authorize).not.toHaveBeenCalled();
    });
  });

  describe('a default policy combined with a cluster policy', () => {
    const defaults = validatePolicy({ deny: [{ resources: ['pods/exec'] }] }, 'policy');
    const prod = validatePolicy({ readOnly: true }, 'clusters[1].policy');

    it('both must allow', () => {
      const both = combinePolicies(defaults, prod);
      expect(decide(both, parseRequestInfo('GET', POD), alice, 'prod')).toEqual({ allowed: true });
      expect(decide(both, parseRequestInfo('GET', `${POD}/exec`), alice, 'prod')).toMatchObject({ reason: expect.stringContaining('policy.deny[0]') });
      expect(decide(both, parseRequestInfo('DELETE', POD), alice, 'prod')).toMatchObject({ reason: expect.stringContaining('clusters[1].policy.readOnly') });
    });

    it('checks the rules of both before any authorize, then the default authorize first', async () => {
      const calls: string[] = [];
      const first = validatePolicy({ authorize: () => Promise.resolve((calls.push('default'), true)) }, 'policy');
      const second = validatePolicy({ deny: [{ verbs: ['delete'] }], authorize: () => (calls.push('cluster'), 'cluster says no') }, 'clusters[0].policy');
      const both = combinePolicies(first, second);
      expect(decide(both, parseRequestInfo('DELETE', POD), alice, 'prod')).toMatchObject({ allowed: false });
      expect(calls).toEqual([]);
      await expect(decide(both, parseRequestInfo('GET', POD), alice, 'prod')).resolves.toEqual({ allowed: false, reason: 'cluster says no' });
      expect(calls).toEqual(['default', 'cluster']);
      const denyFirst = combinePolicies(validatePolicy({ authorize: () => false }, 'policy'), second);
      calls.length = 0;
      expect(decide(denyFirst, parseRequestInfo('GET', POD), alice, 'prod')).toMatchObject({ allowed: false, reason: expect.stringContaining('(policy.authorize)') });
      expect(calls).toEqual([]);
    });

    it('is undefined when neither is set, and undefined allows', () => {
      expect(combinePolicies(undefined, undefined)).toBeUndefined();
      expect(combinePolicies(undefined, prod)?.layers).toHaveLength(1);
      expect(decide(undefined, parseRequestInfo('DELETE', POD), alice, 'prod')).toEqual({ allowed: true });
    });
  });
});
