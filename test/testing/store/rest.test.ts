import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { httpRequest } from '../kit-helpers.ts';

let fake: FakeCluster;

beforeAll(async () => {
  fake = await startFakeCluster({ pods: [], tokens: { 'admin-token': 'admin' } });
});
afterAll(() => fake.close());

type Json = Record<string, unknown> & { metadata?: Record<string, unknown> };

async function call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: Json }> {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const answer = await httpRequest(fake, path, {
    method,
    // Node sends a DELETE body without chunked encoding: it needs its length.
    headers: { Authorization: 'Bearer admin-token', 'Content-Type': contentType, 'User-Agent': 'rest-test/1.0', ...(text === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(text)) }) },
    body: text,
  });
  return { status: answer.status, body: JSON.parse(answer.body) as Json };
}

const CMS = '/api/v1/namespaces/default/configmaps';
const configMap = (name: string, data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });

describe('writes through the API', () => {
  it('creates with system metadata and lists with the list resourceVersion', async () => {
    const created = await call('POST', CMS, configMap('one', { a: '1' }));
    expect(created.status).toBe(201);
    expect(created.body.metadata).toMatchObject({ name: 'one', namespace: 'default', uid: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown });
    expect(created.body.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(created.body.metadata?.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(created.body.metadata?.managedFields).toEqual([expect.objectContaining({ manager: 'rest-test', operation: 'Update' })]);
    const list = await call('GET', CMS);
    expect(list.body).toMatchObject({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: fake.resourceVersion() } });
    expect((list.body.items as Json[]).map((item) => [item.kind, item.metadata?.name])).toEqual([[undefined, 'one']]);
    expect(await call('POST', CMS, configMap('one', {}))).toMatchObject({ status: 409, body: { reason: 'AlreadyExists', message: 'configmaps "one" already exists' } });
  });

  it('updates with optimistic concurrency: 409 Conflict on a stale resourceVersion', async () => {
    const created = await call('POST', CMS, configMap('two', { a: '1' }));
    const stale = created.body;
    const updated = await call('PUT', `${CMS}/two`, { ...stale, data: { a: '2' } });
    expect(updated.status).toBe(200);
    expect(Number(updated.body.metadata?.resourceVersion)).toBeGreaterThan(Number(stale.metadata?.resourceVersion));
    const conflict = await call('PUT', `${CMS}/two`, { ...stale, data: { a: '3' } });
    expect(conflict).toEqual({
      status: 409,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Operation cannot be fulfilled on configmaps "two": the object has been modified; please apply your changes to the latest version and try again',
        reason: 'Conflict',
        details: { name: 'two', kind: 'configmaps' },
        code: 409,
      },
    });
    expect((await call('PUT', `${CMS}/absent`, configMap('absent', {}))).status).toBe(404);
    expect(await call('PUT', `${CMS}/two`, configMap('other', {}))).toMatchObject({ status: 400, body: { message: 'the name of the object (other) does not match the name on the URL (two)' } });
    // A no-op update writes nothing.
    const same = await call('PUT', `${CMS}/two`, updated.body);
    expect(same.body.metadata?.resourceVersion).toBe(updated.body.metadata?.resourceVersion);
  });

  it('patches with JSON patch, merge patch and strategic merge patch, and refuses bad ones', async () => {
    await call('POST', CMS, configMap('three', { a: '1', b: '2' }));
    expect((await call('PATCH', `${CMS}/three`, [{ op: 'replace', path: '/data/a', value: 'x' }], 'application/json-patch+json')).body.data).toEqual({ a: 'x', b: '2' });
    expect((await call('PATCH', `${CMS}/three`, { data: { b: null } }, 'application/merge-patch+json')).body.data).toEqual({ a: 'x' });
    expect((await call('PATCH', `${CMS}/three`, { data: { c: '3' } }, 'application/strategic-merge-patch+json; charset=utf-8')).body.data).toEqual({ a: 'x', c: '3' });

    expect(await call('PATCH', `${CMS}/three`, { data: {} }, 'application/xml')).toMatchObject({
      status: 415,
      body: {
        reason: 'UnsupportedMediaType',
        message: 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml',
      },
    });
    expect(await call('PATCH', `${CMS}/three`, { op: 'add' }, 'application/json-patch+json')).toMatchObject({ status: 400, body: { reason: 'BadRequest' } });
    expect(await call('PATCH', `${CMS}/three`, '[{"op":', 'application/json-patch+json')).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^error decoding patch/) as unknown } });
    expect(await call('PATCH', `${CMS}/three`, [{ op: 'remove', path: '/data/zzz' }], 'application/json-patch+json')).toMatchObject({
      status: 422,
      body: { reason: 'Invalid', details: { causes: [{ reason: 'UnexpectedServerResponse' }] } },
    });
    expect(await call('PATCH', `${CMS}/three`, [1, 2], 'application/merge-patch+json')).toMatchObject({ status: 400, body: { message: expect.stringContaining('must be a JSON object') as unknown } });
    expect(await call('PATCH', `${CMS}/three`, { metadata: { resourceVersion: '1' }, data: { d: '4' } }, 'application/merge-patch+json')).toMatchObject({ status: 409, body: { reason: 'Conflict' } });
    expect(await call('PATCH', `${CMS}/missing`, { data: {} }, 'application/merge-patch+json')).toMatchObject({ status: 404, body: { message: 'configmaps "missing" not found' } });
  });

  it('applies server-side: creates (201), updates (200), needs a fieldManager', async () => {
    const yaml = (value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: four\ndata:\n  key: ${value}\n`;
    const path = `${CMS}/four?fieldManager=tests`;
    const created = await call('PATCH', path, yaml('one'), 'application/apply-patch+yaml');
    expect(created.status).toBe(201);
    expect(created.body.metadata?.managedFields).toEqual([expect.objectContaining({ manager: 'tests', operation: 'Apply', fieldsV1: { 'f:data': { 'f:key': {} } } })]);
    const updated = await call('PATCH', path, yaml('two'), 'application/apply-patch+yaml');
    expect(updated).toMatchObject({ status: 200, body: { data: { key: 'two' } } });
    expect(await call('PATCH', `${CMS}/four?fieldManager=rival`, yaml('three'), 'application/apply-patch+yaml')).toMatchObject({ status: 409, body: { reason: 'Conflict' } });
    expect((await call('PATCH', `${CMS}/four?fieldManager=rival&force=true`, yaml('three'), 'application/apply-patch+yaml')).body.data).toEqual({ key: 'three' });
    expect(await call('PATCH', `${CMS}/four`, yaml('x'), 'application/apply-patch+yaml')).toMatchObject({ status: 422, body: { reason: 'Invalid' } });
    expect(await call('PATCH', path, 'key: [unclosed', 'application/apply-patch+yaml')).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^error decoding YAML/) as unknown } });
    expect(await call('PATCH', `${CMS}/four?force=true`, { data: {} }, 'application/merge-patch+json')).toMatchObject({ status: 422 });
  });

  it('validates objects with 422 Invalid bodies naming the field', async () => {
    expect(await call('POST', CMS, configMap('Bad_Name', {}))).toMatchObject({
      status: 422,
      body: { reason: 'Invalid', details: { name: 'Bad_Name', kind: 'ConfigMap', causes: [{ reason: 'FieldValueInvalid', field: 'metadata.name' }] } },
    });
    const deployment = await call('POST', '/apis/apps/v1/namespaces/default/deployments', { metadata: { name: 'd' }, spec: { template: { spec: {} } } });
    expect(deployment.status).toBe(422);
    expect(deployment.body.message).toBe('Deployment.apps "d" is invalid: [spec.selector: Required value, spec.template.spec.containers: Required value]');
    expect(await call('POST', CMS, { metadata: {} })).toMatchObject({ status: 422, body: { message: 'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required' } });
    expect((await call('POST', CMS, { metadata: { generateName: 'gen-' } })).body.metadata?.name).toMatch(/^gen-[a-z0-9]{5}$/);
    expect(await call('POST', CMS, { kind: 'Secret', metadata: { name: 'x' } })).toMatchObject({ status: 400 });
    expect(await call('POST', CMS, '{"kind":')).toMatchObject({ status: 400 });
    expect(await call('POST', '/api/v1/namespaces/nowhere/configmaps', configMap('x', {}))).toMatchObject({ status: 404, body: { message: 'namespaces "nowhere" not found' } });
  });

  it('deletes: the object (pods, namespaces) or a Success Status; deletecollection by selector', async () => {
    const created = await call('POST', CMS, { ...configMap('five', {}), metadata: { name: 'five', labels: { batch: 'x' } } });
    await call('POST', CMS, { ...configMap('six', {}), metadata: { name: 'six', labels: { batch: 'x' } } });
    expect(await call('DELETE', `${CMS}/five`, { preconditions: { uid: 'wrong' } })).toMatchObject({ status: 409, body: { reason: 'Conflict' } });
    expect(await call('DELETE', `${CMS}/five`)).toEqual({
      status: 200,
      body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'five', kind: 'configmaps', uid: created.body.metadata?.uid } },
    });
    const collection = await call('DELETE', `${CMS}?labelSelector=batch%3Dx`);
    expect(collection.body).toMatchObject({ kind: 'ConfigMapList' });
    expect((collection.body.items as Json[]).map((item) => item.metadata?.name)).toEqual(['six']);
    const pod = await call('POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    expect(pod.body.status).toMatchObject({ phase: 'Running' });
    expect((await call('DELETE', '/api/v1/namespaces/default/pods/p')).body).toMatchObject({ kind: 'Pod', metadata: { name: 'p' } });
  });

  it('keeps objects with finalizers until the last one is removed (202 then gone)', async () => {
    await call('POST', CMS, { ...configMap('held', {}), metadata: { name: 'held', finalizers: ['example.com/hold'] } });
    const marked = await call('DELETE', `${CMS}/held`);
    expect(marked.status).toBe(202);
    expect(marked.body.metadata?.deletionTimestamp).toMatch(/Z$/);
    expect((await call('GET', `${CMS}/held`)).status).toBe(200);
    await call('PATCH', `${CMS}/held`, { metadata: { finalizers: null } }, 'application/merge-patch+json');
    expect((await call('GET', `${CMS}/held`)).status).toBe(404);
  });

  it('paginates with limit and continue over a consistent snapshot; 410 once compacted', async () => {
    await call('POST', '/api/v1/namespaces', { metadata: { name: 'paged' } });
    for (const name of ['a', 'b', 'c']) await call('POST', '/api/v1/namespaces/paged/configmaps', configMap(name, {}));
    const first = await call('GET', '/api/v1/namespaces/paged/configmaps?limit=2');
    expect(first.body.metadata).toMatchObject({ remainingItemCount: 1, continue: expect.any(String) as unknown });
    await call('POST', '/api/v1/namespaces/paged/configmaps', configMap('d', {}));
    const token = encodeURIComponent(String(first.body.metadata?.continue));
    const second = await call('GET', `/api/v1/namespaces/paged/configmaps?limit=2&continue=${token}`);
    expect((second.body.items as Json[]).map((item) => item.metadata?.name)).toEqual(['c']);
    expect(second.body.metadata?.resourceVersion).toBe(first.body.metadata?.resourceVersion);
    fake.compact();
    expect(await call('GET', `/api/v1/namespaces/paged/configmaps?limit=2&continue=${token}`)).toMatchObject({ status: 410, body: { reason: 'Expired', code: 410 } });
    expect(await call('GET', '/api/v1/namespaces/paged/configmaps?continue=garbage')).toMatchObject({ status: 400 });
    expect(await call('GET', `/api/v1/namespaces/paged/configmaps?resourceVersion=${first.body.metadata?.resourceVersion as string}&resourceVersionMatch=Exact`)).toMatchObject({ status: 410 });
    const deleted = await call('DELETE', '/api/v1/namespaces/paged');
    expect(deleted.body).toMatchObject({ kind: 'Namespace', status: { phase: 'Terminating' } });
    expect((await call('GET', '/api/v1/namespaces/paged/configmaps')).body.items).toEqual([]);
  });

  it('knows namespaced from cluster-scoped kinds and serves the status subresource', async () => {
    expect((await call('GET', '/api/v1/namespaces/default/namespaces')).status).toBe(404);
    expect((await call('POST', '/api/v1/configmaps', configMap('x', {}))).status).toBe(404);
    expect((await call('GET', '/api/v1/configmaps')).body.kind).toBe('ConfigMapList');
    const deployment = await call('POST', '/apis/apps/v1/namespaces/default/deployments', {
      metadata: { name: 'web' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } },
    });
    expect(deployment.body).toMatchObject({ metadata: { generation: 1 }, spec: { replicas: 1 }, status: {} });
    const status = await call('PATCH', '/apis/apps/v1/namespaces/default/deployments/web/status', { status: { readyReplicas: 1 }, spec: { replicas: 9 } }, 'application/merge-patch+json');
    expect(status.body).toMatchObject({ metadata: { generation: 1 }, spec: { replicas: 1 }, status: { readyReplicas: 1 } });
    const scaled = await call('PATCH', '/apis/apps/v1/namespaces/default/deployments/web', { spec: { replicas: 3 }, status: { readyReplicas: 7 } }, 'application/merge-patch+json');
    expect(scaled.body).toMatchObject({ metadata: { generation: 2 }, spec: { replicas: 3 }, status: { readyReplicas: 1 } });
  });
});

describe('built-in kinds', () => {
  const table = async (path: string) => {
    const answer = await httpRequest(fake, path, { headers: { Authorization: 'Bearer admin-token', Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } });
    const body = JSON.parse(answer.body) as { kind: string; columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
    return { kind: body.kind, columns: body.columnDefinitions.filter((_, index) => index < 4).map((c) => c.name), rows: body.rows.map((row) => row.cells.slice(0, 3)) };
  };

  it('stores secrets with stringData merged into base64 data, and prints kubectl tables', async () => {
    const secret = await call('POST', '/api/v1/namespaces/default/secrets', { metadata: { name: 's' }, stringData: { password: 'hunter2' }, data: { user: Buffer.from('admin').toString('base64') } });
    expect(secret.body).toMatchObject({ type: 'Opaque', data: { user: 'YWRtaW4=', password: 'aHVudGVyMg==' } });
    expect(secret.body.stringData).toBeUndefined();
    expect(await call('POST', '/api/v1/namespaces/default/secrets', { metadata: { name: 'bad' }, data: { x: 'not base64!' } })).toMatchObject({ status: 422 });
    expect(await table('/api/v1/namespaces/default/secrets')).toEqual({ kind: 'Table', columns: ['Name', 'Type', 'Data', 'Age'], rows: [['s', 'Opaque', 2]] });
    expect((await table('/api/v1/namespaces')).rows).toContainEqual(['default', 'Active', expect.stringMatching(/^\d+[smhd]/) as unknown]);
    expect((await table('/api/v1/namespaces/default/configmaps/one')).columns).toEqual(['Name', 'Data', 'Age']);
  });
});

describe('custom resources', () => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'gadgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Cluster',
      names: { plural: 'gadgets', kind: 'Gadget' },
      versions: [{ name: 'v1', served: true, storage: true, additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }] }],
    },
  };

  it('serves the custom resources of a CRD created through the API, in discovery and OpenAPI too', async () => {
    expect((await call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).body.status).toMatchObject({
      conditions: [{ type: 'NamesAccepted', status: 'True' }, { type: 'Established', status: 'True' }],
      acceptedNames: { plural: 'gadgets', kind: 'Gadget', singular: 'gadget', listKind: 'GadgetList' },
    });
    expect((await call('GET', '/apis')).body.groups).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'example.com' })]));
    expect((await call('GET', '/apis/example.com/v1')).body.resources).toEqual([expect.objectContaining({ name: 'gadgets', namespaced: false, kind: 'Gadget' })]);
    expect(Object.keys((await call('GET', '/openapi/v3')).body.paths as object)).toContain('apis/example.com/v1');
    const gadget = await call('POST', '/apis/example.com/v1/gadgets', { apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'g' }, spec: { size: 2 } });
    expect(gadget).toMatchObject({ status: 201, body: { metadata: { generation: 1 } } });
    expect((await call('GET', '/apis/example.com/v1/gadgets')).body.items).toEqual([expect.objectContaining({ kind: 'Gadget', apiVersion: 'example.com/v1' })]);
    expect(await call('PUT', '/apis/example.com/v1/gadgets/g', { apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'g' }, spec: { size: 3 } })).toMatchObject({
      status: 422,
      body: { message: 'Gadget.example.com "g" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update' },
    });
    expect(await call('PATCH', '/apis/example.com/v1/gadgets/g', { spec: { size: 3 } }, 'application/strategic-merge-patch+json')).toMatchObject({ status: 415 });
    const table = await httpRequest(fake, '/apis/example.com/v1/gadgets', { headers: { Authorization: 'Bearer admin-token', Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
    expect((JSON.parse(table.body) as { rows: { cells: unknown[] }[] }).rows.map((row) => row.cells)).toEqual([['g', 2]]);
    await call('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.example.com');
    expect((await call('GET', '/apis/example.com/v1/gadgets')).status).toBe(404);
    expect(fake.listObjects('apiextensions.k8s.io/v1', 'CustomResourceDefinition')).toEqual([]);
  });

  it('refuses an invalid CRD', async () => {
    const invalid = await call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { ...crd, metadata: { name: 'wrong.example.com' }, spec: { ...crd.spec, versions: [] } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.message).toContain('metadata.name: Invalid value: "wrong.example.com": must be spec.names.plural+"."+spec.group');
  });
});
