import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KUBECTL_TARGETS, startKubectlTargets, type KubectlTargets } from '../helpers/kubectl-sandbox.ts';

/**
 * kubectl's write commands against the fake, directly and through the proxy with the user's token
 * ('user' mode) and with the cluster's own credentials ('cluster' mode).
 */
let targets: KubectlTargets;

beforeAll(async () => {
  targets = await startKubectlTargets('kw');
});
afterAll(() => targets?.close());

const configMap = (name: string, value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  color: ${value}\n`;

/** `EVENT NAME ...` rows of `kubectl get -w --output-watch-events`, as "EVENT name". */
const watchEvents = (lines: readonly string[]) =>
  lines.filter((line) => /^(ADDED|MODIFIED|DELETED)\s/.test(line)).map((line) => line.split(/\s+/).slice(0, 2).join(' '));

describe('kubectl writes (apply, apply --server-side, edit, delete) seen by kubectl get -w', () => {
  it.concurrent.each(KUBECTL_TARGETS)('%s', async (target) => {
    const { fake, sandbox, identity } = targets;
    const namespace = `ns-${target}`;
    const run = (args: string[], env?: Record<string, string>) => sandbox.run(target, args, { env });
    const isWatch = (path: string) => path.startsWith(`/api/v1/namespaces/${namespace}/configmaps?`) && path.includes('watch=true');
    const watch = sandbox.stream(target, ['get', 'configmaps', '-w', '--output-watch-events']);
    try {
      await vi.waitFor(() => expect(fake.requests.some((request) => isWatch(request.path) && request.user === identity[target])).toBe(true), { timeout: 10_000 });

      const settings = await sandbox.file(`${target}-settings.yaml`, configMap('settings', 'blue'));
      expect(await run(['apply', '-f', settings])).toMatchObject({ code: 0, stdout: 'configmap/settings created\n' });
      expect(await run(['apply', '-f', settings])).toMatchObject({ code: 0, stdout: 'configmap/settings unchanged\n' });
      await sandbox.file(`${target}-settings.yaml`, configMap('settings', 'red'));
      expect(await run(['apply', '-f', settings])).toMatchObject({ code: 0, stdout: 'configmap/settings configured\n' });

      const theme = await sandbox.file(`${target}-theme.yaml`, configMap('theme', 'dark'));
      expect(await run(['apply', '--server-side', '-f', theme])).toMatchObject({ code: 0, stdout: 'configmap/theme serverside-applied\n' });
      await sandbox.file(`${target}-theme.yaml`, configMap('theme', 'light'));
      expect(await run(['apply', '--server-side', '-f', theme])).toMatchObject({ code: 0, stdout: 'configmap/theme serverside-applied\n' });
      const applied = JSON.parse((await run(['get', 'configmap', 'theme', '-o', 'json', '--show-managed-fields'])).stdout) as {
        data: { color: string };
        metadata: { managedFields: { manager: string; operation: string }[] };
      };
      expect(applied.data.color).toBe('light');
      expect(applied.metadata.managedFields.map(({ manager, operation }) => `${manager}/${operation}`)).toEqual(['kubectl/Apply']);

      const editor = await sandbox.file(`${target}-editor.sh`, '#!/bin/sh\nsed -i "s/color: red/color: green/" "$1"\n', true);
      expect(await run(['edit', 'configmap', 'settings'], { KUBE_EDITOR: editor })).toMatchObject({ code: 0, stdout: 'configmap/settings edited\n' });
      expect(fake.getObject('v1', 'ConfigMap', 'settings', namespace)?.data).toEqual({ color: 'green' });

      expect(await run(['delete', 'configmap', 'settings', 'theme'])).toMatchObject({ code: 0, stdout: 'configmap "settings" deleted\nconfigmap "theme" deleted\n' });
      expect(fake.listObjects('v1', 'ConfigMap', namespace)).toEqual([]);

      await vi.waitFor(() => expect(watchEvents(watch.lines)).toHaveLength(7), { timeout: 10_000 });
      expect(watchEvents(watch.lines)).toEqual([
        'ADDED settings',
        'MODIFIED settings',
        'ADDED theme',
        'MODIFIED theme',
        'MODIFIED settings',
        'DELETED settings',
        'DELETED theme',
      ]);
    } finally {
      await watch.stop();
    }
  });
});
