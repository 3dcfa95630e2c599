import { describe, expect, it } from 'vitest';
import { PatchError } from '../../../src/testing/store/json-patch.ts';
import { DEPLOYMENT_SCHEMA, POD_SCHEMA } from '../../../src/testing/store/schema.ts';
import { applyStrategicMergePatch } from '../../../src/testing/store/strategic-merge.ts';

const pod = () => ({
  metadata: { name: 'web', finalizers: ['a', 'b'], labels: { app: 'web' } },
  spec: {
    containers: [
      { name: 'app', image: 'nginx:1', ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] },
      { name: 'side', image: 'busybox' },
    ],
    tolerations: [{ key: 'x' }],
  },
});

const smp = (patch: unknown, document: unknown = pod()) => applyStrategicMergePatch(document, patch, POD_SCHEMA);

describe('strategic merge patch', () => {
  it('merges containers by name, ports by containerPort and env by name', () => {
    const result = smp({
      spec: {
        containers: [{ name: 'app', image: 'nginx:2', ports: [{ containerPort: 443 }], env: [{ name: 'B', value: 'two' }] }],
      },
    }) as ReturnType<typeof pod>;
    expect(result.spec.containers).toEqual([
      {
        name: 'app',
        image: 'nginx:2',
        ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 443 }],
        env: [{ name: 'A', value: '1' }, { name: 'B', value: 'two' }],
      },
      { name: 'side', image: 'busybox' },
    ]);
  });

  it('replaces lists without a merge key and deletes fields set to null', () => {
    const result = smp({ metadata: { labels: { app: null } }, spec: { tolerations: [{ key: 'y' }] } }) as ReturnType<typeof pod>;
    expect(result.spec.tolerations).toEqual([{ key: 'y' }]);
    expect(result.metadata.labels).toEqual({});
  });

  it('honours $patch delete and replace, $setElementOrder and $deleteFromPrimitiveList', () => {
    const result = smp({
      metadata: { '$deleteFromPrimitiveList/finalizers': ['a'], finalizers: ['c'] },
      spec: {
        '$setElementOrder/containers': [{ name: 'side' }, { name: 'app' }],
        containers: [{ name: 'app', $patch: 'delete' }, { name: 'new', image: 'alpine' }],
      },
    }) as ReturnType<typeof pod>;
    expect(result.metadata.finalizers).toEqual(['b', 'c']);
    expect(result.spec.containers.map((c) => c.name)).toEqual(['side', 'new']);
    const replaced = smp({ spec: { containers: [{ $patch: 'replace' }, { name: 'solo', image: 'x' }] } }) as ReturnType<typeof pod>;
    expect(replaced.spec.containers).toEqual([{ name: 'solo', image: 'x' }]);
    const map = smp({ metadata: { labels: { $patch: 'replace', fresh: 'yes' } } }) as ReturnType<typeof pod>;
    expect(map.metadata.labels).toEqual({ fresh: 'yes' });
  });

  it('merges a deployment pod template with the pod rules and retains strategy keys', () => {
    const deployment = {
      spec: {
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } },
        template: { spec: { containers: [{ name: 'app', image: 'v1' }] } },
      },
    };
    const result = applyStrategicMergePatch(
      deployment,
      { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' }, template: { spec: { containers: [{ name: 'app', image: 'v2' }] } } } },
      DEPLOYMENT_SCHEMA,
    );
    expect(result).toEqual({ spec: { strategy: { type: 'Recreate' }, template: { spec: { containers: [{ name: 'app', image: 'v2' }] } } } });
  });

  it('refuses malformed patches', () => {
    const stage = (patch: unknown) => {
      try {
        smp(patch);
      } catch (error) {
        if (error instanceof PatchError) return error.stage;
        throw error;
      }
      return 'applied';
    };
    expect(stage([{ op: 'add' }])).toBe('decode');
    expect(stage('text')).toBe('decode');
    expect(stage({ spec: { $patch: 'explode' } })).toBe('decode');
    expect(stage({ spec: { $unknownDirective: 1 } })).toBe('decode');
    expect(stage({ spec: { containers: [{ image: 'no-name' }] } })).toBe('apply');
    expect(stage({ spec: { tolerations: [{ $patch: 'delete', key: 'x' }] } })).toBe('apply');
    expect(stage({ $patch: 'delete' })).toBe('apply');
  });
});
