import { describe, expect, it } from 'vitest';
import { StatusError } from '../../../src/testing/status.ts';
import { applyConfiguration, trackUpdate, type FieldManagerContext } from '../../../src/testing/store/field-manager.ts';
import type { KubeObject } from '../../../src/testing/store/objects.ts';
import type { DraftObject } from '../../../src/testing/store/resource-type.ts';
import { DEPLOYMENT_SCHEMA } from '../../../src/testing/store/schema.ts';

const context = (manager: string): FieldManagerContext => ({ manager, apiVersion: 'apps/v1', schema: DEPLOYMENT_SCHEMA, subresource: undefined, statusSubresource: true });

const deployment = (image: string, replicas = 2): DraftObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: { replicas, template: { spec: { containers: [{ name: 'app', image }] } } },
});

type Managed = { manager: string; operation: string; fieldsV1: Record<string, unknown> }[];
const managed = (object: KubeObject) => (object.metadata as { managedFields?: Managed }).managedFields ?? [];

describe('server-side apply', () => {
  it('creates with the manager owning exactly its fields, keyed list items included', () => {
    const created = applyConfiguration(undefined, deployment('nginx:1'), false, context('ci'));
    expect(managed(created)).toEqual([
      expect.objectContaining({
        manager: 'ci',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:name': {}, 'f:image': {} } } } },
          },
        },
      }),
    ]);
  });

  it('conflicts with another manager that set a field to another value, unless forced', () => {
    const created = applyConfiguration(undefined, deployment('nginx:1'), false, context('ci'));
    // The same values: co-ownership, no conflict.
    const shared = applyConfiguration(created, deployment('nginx:1'), false, context('dashboard'));
    expect(managed(shared).map((entry) => entry.manager)).toEqual(['ci', 'dashboard']);
    let conflict: unknown;
    try {
      applyConfiguration(shared, deployment('nginx:2', 5), false, context('dashboard'));
    } catch (error) {
      conflict = error;
    }
    expect(conflict).toBeInstanceOf(StatusError);
    expect((conflict as StatusError).toStatus()).toMatchObject({
      reason: 'Conflict',
      code: 409,
      message: expect.stringMatching(/^Apply failed with 2 conflicts: conflicts with "ci" using apps\/v1:\n- \.spec\.replicas\n- \.spec\.template\.spec\.containers\[name="app"\]\.image$/) as unknown,
      details: { causes: [{ reason: 'FieldManagerConflict', field: '.spec.replicas' }, { reason: 'FieldManagerConflict', field: '.spec.template.spec.containers[name="app"].image' }] },
    });
    const forced = applyConfiguration(shared, deployment('nginx:2', 5), true, context('dashboard'));
    expect((forced.spec as { replicas: number }).replicas).toBe(5);
    const ci = managed(forced).find((entry) => entry.manager === 'ci');
    expect(JSON.stringify(ci?.fieldsV1)).not.toContain('f:replicas');
  });

  it('removes the fields a manager stops applying, unless someone else owns them', () => {
    const first = applyConfiguration(undefined, { ...deployment('nginx:1'), metadata: { name: 'web', labels: { app: 'web', tier: 'front' } } }, false, context('ci'));
    const second = applyConfiguration(first, deployment('nginx:1'), false, context('ci'));
    expect((second.metadata as { labels: Record<string, string> }).labels).toEqual({ app: 'web' });
  });
});

describe('managed fields of updates', () => {
  it('gives the writer the fields it changed, taking them from the others, and drops removed ones', () => {
    const created = deployment('nginx:1');
    trackUpdate(undefined, created, context('kubectl-create'));
    expect(managed(created).map((entry) => [entry.manager, entry.operation])).toEqual([['kubectl-create', 'Update']]);
    const edited = structuredClone(created);
    (edited.spec as { replicas: number }).replicas = 3;
    delete (edited.metadata as { labels?: unknown }).labels;
    trackUpdate(created, edited, context('kubectl-edit'));
    const entries = managed(edited);
    expect(entries.find((entry) => entry.manager === 'kubectl-edit')?.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    const creator = JSON.stringify(entries.find((entry) => entry.manager === 'kubectl-create')?.fieldsV1);
    expect(creator).not.toContain('f:replicas');
    expect(creator).not.toContain('f:labels');
    expect(creator).toContain('f:image');
  });

  it('keeps managedFields a client sends (kubectl upgrading client-side apply) and ignores malformed entries', () => {
    const created = deployment('nginx:1');
    trackUpdate(undefined, created, context('old'));
    const replaced = structuredClone(created);
    replaced.metadata.managedFields = [{ manager: 'new', operation: 'Apply', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }, 'garbage', { manager: 1 }];
    trackUpdate(created, replaced, context('kubectl'));
    expect(managed(replaced).map((entry) => entry.manager)).toEqual(['new']);
  });
});
