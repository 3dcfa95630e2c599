import type { IncomingMessage } from 'node:http';
import { booleanParameter, integerParameter } from '../query.ts';
import { objectFilter } from '../selectors.ts';
import { badRequest, invalid, notFound, StatusError, type StatusDetails } from '../status.ts';
import type { Responder } from '../stream-sink.ts';
import type { StreamTracker } from '../streams.ts';
import { includeObjectParameter, objectTable, wantsTable } from '../tables.ts';
import { awaitResourceVersion, resourceVersionParameter, serveWatch, type WatchTarget } from '../watch.ts';
import { decodeObjectBody, parseYaml, readBody } from './bodies.ts';
import type { Preconditions } from './object-store.ts';
import { describeValue, isObject, metadataOf, type KubeObject } from './objects.ts';
import { APPLY_PATCH, patchObject, patchTypeOf } from './patch.ts';
import type { ResourceRequest } from './resource-path.ts';
import { apiVersionOf, type ResourceType } from './resource-type.ts';
import { presentAs } from './resources.ts';
import { required } from './validation.ts';
import { applyObject, createObject, deleteObject, draftOf, updateObject, writeUpdate, type WriteContext, type WriteOptions } from './writes.ts';

/** What resource requests need from the running fake. */
export interface ResourceContext extends WriteContext {
  readonly streams: StreamTracker;
}

const NOT_FOUND = () => new StatusError('NotFound', 'the server could not find the requested resource', {});
const METHOD_NOT_ALLOWED = () => new StatusError('MethodNotAllowed', 'the server does not allow this method on the requested resource');

/** `dryRun=All` (the only value kube-apiserver knows). */
function dryRunParameter(query: URLSearchParams, body?: unknown): boolean {
  const values = [...query.getAll('dryRun'), ...(isObject(body) && Array.isArray(body.dryRun) ? body.dryRun.map(String) : [])];
  for (const value of values) if (value !== 'All') throw badRequest(`dryRun: Unsupported value: "${value}": supported values: "All"`);
  return values.length > 0;
}

function writeOptions(req: IncomingMessage, query: URLSearchParams, subresource: string): WriteOptions {
  const fieldManager = query.get('fieldManager') ?? '';
  if (fieldManager.length > 128) throw badRequest('fieldManager: Too long: may not be more than 128 bytes');
  // kube-apiserver names an unnamed writer after its User-Agent's product ("kubectl/v1.32 ..." is "kubectl").
  const manager = fieldManager || (req.headers['user-agent'] ?? '').split('/')[0]?.slice(0, 128) || 'unknown';
  return { manager, dryRun: dryRunParameter(query), subresource: subresource || undefined };
}

interface ContinueToken {
  readonly rv: number;
  readonly start: string;
}

function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', ...token })).toString('base64url');
}

function decodeContinue(text: string): ContinueToken {
  try {
    const token = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (token.v === 'meta.k8s.io/v1' && typeof token.rv === 'number' && Number.isInteger(token.rv) && typeof token.start === 'string') return { rv: token.rv, start: token.start };
  } catch {
    // falls through to the BadRequest
  }
  throw badRequest('continue key is not valid: the continue token is malformed; start the list again without it');
}

const objectKey = (object: KubeObject) => `${metadataOf(object).namespace ?? ''}/${metadataOf(object).name ?? ''}`;

/** A list as kube-apiserver answers it: `resourceVersion` (unset, "0", NotOlderThan or Exact), `limit` and `continue`. */
async function listObjects(context: ResourceContext, target: WatchTarget, query: URLSearchParams): Promise<{ items: KubeObject[]; resourceVersion: number; continueToken?: string; remaining?: number }> {
  const { store } = context;
  const resourceVersion = resourceVersionParameter(query);
  const match = query.get('resourceVersionMatch') ?? '';
  const limit = integerParameter(query, 'limit') ?? 0;
  const continued = query.get('continue');
  let objects: KubeObject[] | undefined;
  let listVersion: number;
  let start = '';
  if (match !== '' && match !== 'NotOlderThan' && match !== 'Exact') throw badRequest(`resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`);
  if (continued) {
    if (resourceVersion !== '' && resourceVersion !== '0') throw badRequest('specifying resource version is not allowed when using continue');
    const token = decodeContinue(continued);
    objects = store.listAt(target.type, target.namespace, token.rv);
    if (!objects) {
      throw new StatusError('Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
    }
    [listVersion, start] = [token.rv, token.start];
  } else if (match === 'Exact') {
    if (resourceVersion === '' || resourceVersion === '0') throw badRequest(`resourceVersionMatch: Forbidden: resourceVersionMatch "Exact" is forbidden for resourceVersion "${resourceVersion}"`);
    const wanted = Number(resourceVersion);
    await awaitResourceVersion(store, wanted);
    objects = store.listAt(target.type, target.namespace, wanted);
    if (!objects) throw new StatusError('Expired', `too old resource version: ${wanted} (${store.resourceVersion})`);
    listVersion = wanted;
  } else {
    if (resourceVersion !== '' && resourceVersion !== '0') await awaitResourceVersion(store, Number(resourceVersion));
    objects = store.list(target.type, target.namespace);
    listVersion = store.resourceVersion;
  }
  const selected = objects.filter((object) => target.filter(object) && (start === '' || objectKey(object) > start));
  if (limit === 0 || selected.length <= limit) return { items: selected, resourceVersion: listVersion };
  const page = selected.slice(0, limit);
  const last = page.at(-1);
  const filtered = query.has('labelSelector') || query.has('fieldSelector');
  return {
    items: page,
    resourceVersion: listVersion,
    continueToken: encodeContinue({ rv: listVersion, start: last ? objectKey(last) : '' }),
    ...(filtered ? {} : { remaining: selected.length - limit }),
  };
}

/** A list body: built-in kinds' items without kind and apiVersion, custom resources' with them. */
function listBody(type: ResourceType, items: readonly KubeObject[], metadata: Record<string, unknown>): Record<string, unknown> {
  return {
    kind: type.listKind,
    apiVersion: apiVersionOf(type),
    metadata,
    items: items.map((object) => {
      const served = presentAs(type, object);
      if (type.itemsCarryType) return served;
      const { kind: _kind, apiVersion: _apiVersion, ...rest } = served;
      return rest;
    }),
  };
}

function deleteOptions(query: URLSearchParams, body: unknown): { preconditions: Preconditions; dryRun: boolean } {
  if (body !== undefined && !isObject(body)) throw badRequest('the body of a DELETE must be a DeleteOptions object');
  const policy = (isObject(body) ? body.propagationPolicy : undefined) ?? query.get('propagationPolicy');
  if (policy !== undefined && policy !== null && !['Orphan', 'Background', 'Foreground'].includes(describeValue(policy))) {
    throw badRequest(`propagationPolicy: Unsupported value: "${describeValue(policy)}": supported values: "Foreground", "Background", "Orphan"`);
  }
  const preconditions = isObject(body) && isObject(body.preconditions) ? body.preconditions : {};
  return {
    preconditions: {
      uid: typeof preconditions.uid === 'string' ? preconditions.uid : undefined,
      resourceVersion: typeof preconditions.resourceVersion === 'string' ? preconditions.resourceVersion : undefined,
    },
    dryRun: dryRunParameter(query, body),
  };
}

function successStatus(type: ResourceType, object: KubeObject): Record<string, unknown> {
  const details: StatusDetails = {
    name: metadataOf(object).name ?? '',
    ...(type.group === '' ? {} : { group: type.group }),
    kind: type.resource,
    uid: metadataOf(object).uid ?? '',
  };
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}

/**
 * Serves one request for a stored kind: list, watch, get, create, update, patch (JSON, merge,
 * strategic merge, apply), delete and deletecollection, and the status subresource.
 */
export async function serveResource(context: ResourceContext, req: IncomingMessage, responder: Responder, request: ResourceRequest, query: URLSearchParams): Promise<void> {
  const type = context.types.find(request.group, request.version, request.resource);
  if (!type) throw NOT_FOUND();
  const method = req.method ?? 'GET';
  const { name, subresource } = request;
  // A namespaced kind has no cluster-scoped objects (only lists across namespaces); a cluster-scoped one none in a namespace.
  if (request.namespace !== '' && !type.namespaced) throw NOT_FOUND();
  if (type.namespaced && request.namespace === '' && (name !== '' || method !== 'GET')) throw NOT_FOUND();
  if (subresource !== '' && !(subresource === 'status' && type.statusSubresource)) throw NOT_FOUND();
  const namespace = type.namespaced ? request.namespace : '';
  const table = wantsTable(req.headers.accept) ? includeObjectParameter(query) : undefined;

  if (name === '') {
    const target: WatchTarget = { type, namespace: namespace || undefined, filter: objectFilter(query, type.selectableFields), table };
    switch (method) {
      case 'GET':
      case 'HEAD': {
        if (request.watch) return serveWatch(responder, query, context.store, context.streams, target);
        const list = await listObjects(context, target, query);
        const metadata = {
          resourceVersion: String(list.resourceVersion),
          ...(list.continueToken ? { continue: list.continueToken } : {}),
          ...(list.remaining !== undefined ? { remainingItemCount: list.remaining } : {}),
        };
        const served = list.items.map((object) => presentAs(type, object));
        if (table) return responder.json(200, { ...objectTable(type, served, table, metadata.resourceVersion), metadata });
        return responder.json(200, listBody(type, list.items, metadata));
      }
      case 'POST': {
        const body = decodeObjectBody(await readBody(req), req.headers['content-type']);
        return responder.json(201, createObject(context, type, namespace, body, writeOptions(req, query, '')));
      }
      case 'DELETE': {
        const body = await readBody(req);
        const options = deleteOptions(query, body.length === 0 ? undefined : decodeObjectBody(body, req.headers['content-type']));
        const list = await listObjects(context, { ...target, table: undefined }, new URLSearchParams([...query].filter(([key]) => key !== 'limit' && key !== 'continue')));
        const deleted = list.items.map((object) => deleteObject(context, type, namespace, metadataOf(object).name ?? '', {}, options).object);
        return responder.json(200, listBody(type, deleted, { resourceVersion: String(context.store.resourceVersion) }));
      }
      default:
        throw METHOD_NOT_ALLOWED();
    }
  }

  switch (method) {
    case 'GET':
    case 'HEAD': {
      if (request.watch) {
        query.set('fieldSelector', [query.get('fieldSelector'), `metadata.name=${name}`].filter(Boolean).join(','));
        return serveWatch(responder, query, context.store, context.streams, { type, namespace: namespace || undefined, filter: objectFilter(query, type.selectableFields), table });
      }
      const object = context.store.get(type, namespace, name);
      if (!object) throw notFound(type.resource, name, type.group);
      const served = presentAs(type, object);
      return responder.json(200, table ? objectTable(type, [served], table, metadataOf(object).resourceVersion ?? '') : served);
    }
    case 'PUT': {
      const body = decodeObjectBody(await readBody(req), req.headers['content-type']);
      return responder.json(200, updateObject(context, type, namespace, name, body, writeOptions(req, query, subresource)));
    }
    case 'PATCH': {
      const patchType = patchTypeOf(type, req.headers['content-type']);
      const options = writeOptions(req, query, subresource);
      const force = query.has('force') ? booleanParameter(query, 'force') : undefined;
      const body = await readBody(req);
      if (patchType === APPLY_PATCH) {
        if (!query.get('fieldManager')) throw invalid('PatchOptions', '', [required('fieldManager', 'is required for apply patch')], 'meta.k8s.io');
        const applied = applyObject(context, type, namespace, name, parseYaml(body, 'apply configuration'), { ...options, force: force ?? false });
        return responder.json(applied.created ? 201 : 200, applied.object);
      }
      if (force !== undefined) {
        throw invalid('PatchOptions', '', [{ field: 'force', type: 'FieldValueForbidden', message: 'Forbidden: may not be specified for non-apply patch' }], 'meta.k8s.io');
      }
      const current = context.store.get(type, namespace, name);
      if (!current) throw notFound(type.resource, name, type.group);
      const patched = patchObject(type, presentAs(type, current), patchType, body);
      const draft = draftOf(type, patched);
      if (draft.metadata.name !== name) throw badRequest(`the name of the object (${describeValue(draft.metadata.name ?? '')}) does not match the name on the URL (${name})`);
      const resourceVersion = typeof draft.metadata.resourceVersion === 'string' ? draft.metadata.resourceVersion : undefined;
      return responder.json(200, writeUpdate(context, type, current, draft, options, { resourceVersion }));
    }
    case 'DELETE': {
      if (subresource !== '') throw METHOD_NOT_ALLOWED();
      const body = await readBody(req);
      const options = deleteOptions(query, body.length === 0 ? undefined : decodeObjectBody(body, req.headers['content-type']));
      const { object, deleted } = deleteObject(context, type, namespace, name, options.preconditions, options);
      if (!deleted) return responder.json(202, object);
      return responder.json(200, type.returnDeletedObject ? object : successStatus(type, object));
    }
    default:
      throw METHOD_NOT_ALLOWED();
  }
}
