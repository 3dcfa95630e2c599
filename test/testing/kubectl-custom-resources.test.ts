import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KUBECTL_TARGETS, startKubectlTargets, type KubectlTargets } from '../helpers/kubectl-sandbox.ts';

/**
 * kubectl with CRDs and their custom resources against the fake, directly and through the proxy with the user's token
 * ('user' mode) and with the cluster's own credentials ('cluster' mode).
 */
let targets: KubectlTargets;

beforeAll(async () => {
  targets = await startKubectlTargets('kcrd');
});
afterAll(() => targets?.close());

describe('kubectl with a CRD and its custom resources', () => {
  it.concurrent.each(KUBECTL_TARGETS)('%s', async (target) => {
    const { sandbox } = targets;
    const group = `${target}.example.com`;
    const crd = await sandbox.file(
      `${target}-crd.yaml`,
      [
        'apiVersion: apiextensions.k8s.io/v1',
        'kind: CustomResourceDefinition',
        `metadata: { name: widgets.${group} }`,
        'spec:',
        `  group: ${group}`,
        '  scope: Namespaced',
        '  names: { plural: widgets, singular: widget, kind: Widget }',
        '  versions:',
        '  - name: v1',
        '    served: true',
        '    storage: true',
        '    additionalPrinterColumns: [{ name: Size, type: integer, jsonPath: .spec.size }]',
        '    schema: { openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true } }',
        '',
      ].join('\n'),
    );
    const widget = (size: number) => `apiVersion: ${group}/v1\nkind: Widget\nmetadata: { name: w1 }\nspec: { size: ${size} }\n`;
    const run = (args: string[]) => sandbox.run(target, args);
    expect(await run(['apply', '-f', crd])).toMatchObject({ code: 0 });
    expect(await run(['wait', '--for', 'condition=established', `crd/widgets.${group}`, '--timeout=10s'])).toMatchObject({ code: 0 });
    const file = await sandbox.file(`${target}-widget.yaml`, widget(3));
    expect(await run(['apply', '-f', file])).toMatchObject({ code: 0, stdout: `widget.${group}/w1 created\n` });
    await sandbox.file(`${target}-widget.yaml`, widget(4));
    expect(await run(['apply', '-f', file])).toMatchObject({ code: 0, stdout: `widget.${group}/w1 configured\n` });
    const table = await run(['get', `widgets.${group}`]);
    expect(table.stdout.trim().split('\n').map((line) => line.split(/\s+/))).toEqual([['NAME', 'SIZE'], ['w1', '4']]);
    expect(await run(['delete', 'crd', `widgets.${group}`])).toMatchObject({ code: 0 });
    expect((await run(['get', `widgets.${group}`])).code).not.toBe(0);
  });
});
