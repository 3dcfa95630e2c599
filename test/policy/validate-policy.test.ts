import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.ts';
import { validatePolicy } from '../../src/policy/validate-policy.ts';

const AT = 'clusters[2].policy';

describe('validatePolicy', () => {
  it('compiles a complete policy into one layer named by the option', () => {
    const authorize = () => true;
    const compiled = validatePolicy(
      {
        readOnly: false,
        deny: [
          { verbs: ['create'], resources: ['pods/exec', 'pods/attach'], namespaces: ['prod'], reason: 'no shells in prod' },
          { apiGroups: ['rbac.authorization.k8s.io', ''], resources: ['*', '*/scale', 'pods/*'], users: ['*'], groups: ['contractors'] },
          { nonResourceURLs: ['/debug/*', '/metrics', '*'], verbs: ['get', 'head'] },
        ],
        allow: [{ verbs: ['*'] }],
        authorize,
      },
      AT,
    );
    expect(compiled.layers).toHaveLength(1);
    const [layer] = compiled.layers;
    expect(layer).toMatchObject({ where: AT, readOnly: false, authorize });
    expect(layer!.deny.map((rule) => rule.where)).toEqual([`${AT}.deny[0]`, `${AT}.deny[1]`, `${AT}.deny[2]`]);
    expect(layer!.deny[0]!.reason).toBe('no shells in prod');
    expect(layer!.allow).toHaveLength(1);
  });

  it('accepts an empty policy and an empty deny list', () => {
    expect(validatePolicy({}, AT).layers[0]).toMatchObject({ readOnly: false, deny: [], allow: undefined, authorize: undefined });
    expect(validatePolicy({ deny: [] }, AT).layers[0]!.deny).toEqual([]);
  });

  it.each<[string, unknown, string | RegExp]>([
    ['not an object', 'readOnly', `${AT} must be an object`],
    ['null', null, `${AT} must be an object`],
    ['an array', [], `${AT} must be an object`],
    ['a misspelled key', { readonly: true }, `${AT}: unknown option "readonly"; did you mean "readOnly"?`],
    ['readOnly not a boolean', { readOnly: 'yes' }, `${AT}.readOnly must be a boolean`],
    ['authorize not a function', { authorize: true }, `${AT}.authorize must be a function`],
    ['deny not an array', { deny: { verbs: ['get'] } }, `${AT}.deny must be an array of rules`],
    ['an empty allow list', { allow: [] }, `${AT}.allow is empty, which would allow nothing`],
    ['a rule that is null', { deny: [null] }, `${AT}.deny[0] must be a rule object`],
    ['a rule that is a string', { allow: ['pods'] }, `${AT}.allow[0] must be a rule object`],
    ['an unknown rule field', { deny: [{ verbs: ['get'] }, { resourceNames: ['x'] }] }, `${AT}.deny[1]: unknown option "resourceNames"`],
    ['a misspelled rule field', { deny: [{ verb: ['get'] }] }, /unknown option "verb".*verbs/],
    ['a string instead of a list', { deny: [{ verbs: 'get' }] }, `${AT}.deny[0].verbs must be an array of strings (['a', 'b']); got the string "get"`],
    ['a number in a list', { deny: [{ resources: ['pods', 1] }] }, `${AT}.deny[0].resources must be an array of strings`],
    ['a bigint list', { deny: [{ groups: 10n }] }, `${AT}.deny[0].groups must be an array of strings (['a', 'b']); got bigint`],
    ['an empty list', { deny: [{ verbs: [] }] }, `${AT}.deny[0].verbs is empty, which would match nothing; leave it out to match anything`],
    ['exec as a verb', { deny: [{ verbs: ['get', 'exec'] }] }, `${AT}.deny[0].verbs[1]: "exec" is a subresource, not a verb: name it in resources, as 'pods/exec'`],
    ['port-forward as a verb', { deny: [{ verbs: ['port-forward'] }] }, /as 'pods\/portforward'/],
    ['an uppercase verb', { deny: [{ verbs: ['GET'] }] }, `${AT}.deny[0].verbs[0]: verbs are lowercase: 'get'`],
    ['an unknown verb', { deny: [{ verbs: ['impersonate'] }] }, /"impersonate" is not a verb the proxy can see; use get, list/],
    ['a group with its version', { deny: [{ apiGroups: ['apps/v1'] }] }, `${AT}.deny[0].apiGroups[0]: "apps/v1" has a version`],
    ['a version as a group', { deny: [{ apiGroups: ['v1'] }] }, /"v1" has a version.*'' for the core group/],
    ['core as a group', { deny: [{ apiGroups: ['core'] }] }, /the core group .* is '' as in RBAC/],
    ['a group that is not a name', { deny: [{ apiGroups: ['Apps'] }] }, /"Apps" is not an API group name/],
    ['a kind as a resource', { deny: [{ resources: ['Pod'] }] }, `${AT}.deny[0].resources[0]: "Pod": resources are lowercase plural names as in the URL ('pods', not 'Pod')`],
    ['a resource with its group', { deny: [{ resources: ['deployments.apps'] }] }, `"deployments.apps" names the group too: use apiGroups: ['apps'] and resources: ['deployments']`],
    ['two subresources', { deny: [{ resources: ['pods/exec/x'] }] }, /a resource has one subresource at most/],
    ['an empty subresource', { deny: [{ resources: ['pods/'] }] }, /"pods\/" is not a resource name/],
    ['an uppercase subresource', { deny: [{ resources: ['pods/Exec'] }] }, /lowercase/],
    ['a bad namespace', { deny: [{ namespaces: ['Kube_System'] }] }, `${AT}.deny[0].namespaces[0]: "Kube_System" is not a namespace name`],
    ['a namespace too long', { deny: [{ namespaces: ['a'.repeat(64)] }] }, /is not a namespace name/],
    ['an empty user', { deny: [{ users: [''] }] }, `${AT}.deny[0].users[0]: must not be empty ('*' matches everyone)`],
    ['an empty group', { allow: [{ groups: ['ops', ''] }] }, `${AT}.allow[0].groups[1]: must not be empty`],
    ['a relative URL', { deny: [{ nonResourceURLs: ['healthz'] }] }, /"healthz" must be a path from '\/'/],
    ['a star inside a URL', { deny: [{ nonResourceURLs: ['/a*/b'] }] }, /'\*' may only end a path/],
    ['URLs mixed with resources', { deny: [{ nonResourceURLs: ['/version'], resources: ['pods'] }] }, `${AT}.deny[0] mixes nonResourceURLs with apiGroups/resources/namespaces`],
    ['URLs mixed with namespaces', { deny: [{ nonResourceURLs: ['/version'], namespaces: ['a'] }] }, /mixes/],
    ['a reason on an allow rule', { allow: [{ verbs: ['get'], reason: 'reads' }] }, `${AT}.allow[0].reason: only deny rules have a reason`],
    ['an empty reason', { deny: [{ reason: ' ' }] }, `${AT}.deny[0].reason must be a non-empty string`],
    ['a reason that is not a string', { deny: [{ reason: 403 }] }, `${AT}.deny[0].reason must be a non-empty string`],
  ])('refuses %s, naming the option', (_name, policy, message) => {
    expect(() => validatePolicy(policy, AT)).toThrow(InvalidOptionError);
    expect(() => validatePolicy(policy, AT)).toThrow(message);
  });
});
