import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KUBECTL_TARGETS, startKubectlTargets, type KubectlTargets } from '../helpers/kubectl-sandbox.ts';

/**
 * kubectl auth can-i against the fake, directly and through the proxy with the user's token
 * ('user' mode) and with the cluster's own credentials ('cluster' mode).
 */
let targets: KubectlTargets;

beforeAll(async () => {
  targets = await startKubectlTargets('kcan');
});
afterAll(() => targets?.close());

describe('kubectl auth can-i answers from the rules set for the identity the fake sees', () => {
  it.each(KUBECTL_TARGETS)('%s', async (target) => {
    const { fake, sandbox, identity } = targets;
    fake.setRules(identity[target], [{ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['configmaps'] }]);
    try {
      const canI = (...args: string[]) => sandbox.run(target, ['auth', 'can-i', ...args]);
      expect(await canI('list', 'configmaps')).toMatchObject({ code: 0, stdout: 'yes\n' });
      expect(await canI('delete', 'configmaps')).toMatchObject({ code: 1, stdout: 'no\n' });
      expect(await canI('create', 'deployments.apps')).toMatchObject({ code: 1, stdout: 'no\n' });
      expect(await canI('get', 'configmaps', '-n', 'elsewhere')).toMatchObject({ code: 0, stdout: 'yes\n' });
      const denied = await sandbox.run(target, ['delete', 'configmap', 'anything']);
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toContain(`configmaps "anything" is forbidden: User "${identity[target]}" cannot delete resource "configmaps" in API group "" in the namespace "ns-${target}"`);
    } finally {
      fake.setRules(identity[target], null);
    }
    expect(await sandbox.run(target, ['auth', 'can-i', 'delete', 'configmaps'])).toMatchObject({ code: 0, stdout: 'yes\n' });
  });
});
