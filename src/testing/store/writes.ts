import { randomInt, randomUUID } from 'node:crypto';
import { rfc3339 } from '../pods.ts';
import { badRequest, invalid, notFound, StatusError, type FieldError } from '../status.ts';
import { applyConfiguration, trackUpdate, type FieldManagerContext } from './field-manager.ts';
import type { ObjectStore, Preconditions } from './object-store.ts';
import { describeValue, isObject, jsonEqual, metadataOf, mutableCopy, stringOr, type KubeObject } from './objects.ts';
import { apiVersionOf, type DraftObject, type ResourceType } from './resource-type.ts';
import { presentAs, type TypeRegistry } from './resources.ts';
import { DNS_LABEL_RULE, DNS_SUBDOMAIN_RULE, invalidValue, isDnsLabelName, isDnsSubdomain, required, validateMetadataMaps } from './validation.ts';

/** What writes need: the store, the kinds, and what new pods are scheduled to. */
export interface WriteContext {
  readonly store: ObjectStore;
  readonly types: TypeRegistry;
  readonly nodeName: string;
}

export interface WriteOptions {
  /** `fieldManager`, or the User-Agent's product as kube-apiserver falls back to. */
  readonly manager: string;
  /** `dryRun=All`: validate and answer, store nothing. */
  readonly dryRun?: boolean;
  /** `status` for writes to the status subresource. */
  readonly subresource?: string | undefined;
  /** Writes by the test itself (the fake's helpers) keep the uid, creationTimestamp and status they bring. */
  readonly system?: boolean;
  /** The draft's managedFields were already worked out (server-side apply). */
  readonly ownersComputed?: boolean;
}

const GENERATE_NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const WITHOUT_METADATA_AND_STATUS = (object: KubeObject) => Object.fromEntries(Object.entries(object).filter(([key]) => key !== 'metadata' && key !== 'status'));

function fieldContext(type: ResourceType, options: WriteOptions): FieldManagerContext {
  return { manager: options.manager, apiVersion: apiVersionOf(type), schema: type.schema, subresource: options.subresource, statusSubresource: type.statusSubresource };
}

/** The body as an object of this kind; missing apiVersion and kind default to the endpoint's, as the apiserver decodes. */
export function draftOf(type: ResourceType, body: unknown): DraftObject {
  if (!isObject(body)) throw badRequest(`the body must be a ${type.kind} object`);
  const apiVersion = apiVersionOf(type);
  if (body.apiVersion !== undefined && body.apiVersion !== apiVersion) {
    throw badRequest(`the API version in the data (${describeValue(body.apiVersion)}) does not match the expected API version (${apiVersion})`);
  }
  if (body.kind !== undefined && body.kind !== type.kind) throw badRequest(`the kind in the data (${describeValue(body.kind)}) does not match the expected kind (${type.kind})`);
  // apiVersion and kind first, as kube-apiserver serializes objects.
  const { apiVersion: _apiVersion, kind: _kind, ...fields } = mutableCopy(body);
  return { apiVersion, kind: type.kind, ...fields };
}

function requireNamespace(context: WriteContext, namespace: string): void {
  if (!context.store.get({ group: '', resource: 'namespaces' }, '', namespace)) throw notFound('namespaces', namespace);
}

function nameErrors(type: ResourceType, name: string): FieldError[] {
  if (type.resource === 'namespaces') return isDnsLabelName(name) ? [] : [invalidValue('metadata.name', name, DNS_LABEL_RULE)];
  if (type.itemsCarryType) return /^(\.\.?|.*[/%].*)$/.test(name) ? [invalidValue('metadata.name', name, 'may not be "." or "..", nor contain "/" or "%"')] : [];
  return isDnsSubdomain(name) ? [] : [invalidValue('metadata.name', name, DNS_SUBDOMAIN_RULE)];
}

function rejectInvalid(type: ResourceType, name: string, errors: readonly FieldError[]): void {
  if (errors.length > 0) throw invalid(type.kind, name, errors, type.group);
}

/** Stores a new object of `type` in `namespace` (`''` for cluster-scoped kinds), as a POST does. */
export function createObject(context: WriteContext, type: ResourceType, namespace: string, body: unknown, options: WriteOptions): KubeObject {
  const draft = draftOf(type, body);
  const meta = draft.metadata;
  if (type.namespaced) {
    if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    meta.namespace = namespace;
  } else delete meta.namespace;
  if ((meta.name === undefined || meta.name === '') && typeof meta.generateName === 'string' && meta.generateName !== '') {
    meta.name = `${meta.generateName}${Array.from({ length: 5 }, () => GENERATE_NAME_ALPHABET[randomInt(GENERATE_NAME_ALPHABET.length)]).join('')}`;
  }
  const name = typeof meta.name === 'string' ? meta.name : '';
  if (name === '') rejectInvalid(type, '', [required('metadata.name', 'name or generateName is required')]);
  rejectInvalid(type, name, nameErrors(type, name));
  if (meta.resourceVersion !== undefined && meta.resourceVersion !== '') {
    throw new StatusError('InternalError', 'Internal error occurred: resourceVersion should not be set on objects to be created');
  }
  if (type.namespaced) requireNamespace(context, namespace);
  if (!options.system || meta.uid === undefined) meta.uid = randomUUID();
  if (!options.system || meta.creationTimestamp === undefined) meta.creationTimestamp = rfc3339(new Date());
  for (const key of ['deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink'] as const) delete meta[key];
  if (type.generation) meta.generation = 1;
  else delete meta.generation;
  if (type.statusSubresource && !options.system) delete draft.status;
  rejectInvalid(type, name, [...validateMetadataMaps(meta), ...type.prepare(draft, undefined, context)]);
  if (!options.system && !options.ownersComputed) trackUpdate(undefined, draft, fieldContext(type, options));
  return store(context, type, draft, undefined, {}, options);
}

/** Replaces an object, as a PUT does (to the object or its status subresource). */
export function updateObject(context: WriteContext, type: ResourceType, namespace: string, name: string, body: unknown, options: WriteOptions): KubeObject {
  const draft = draftOf(type, body);
  const meta = draft.metadata;
  if (meta.name !== name) throw badRequest(`the name of the object (${describeValue(meta.name ?? '')}) does not match the name on the URL (${name})`);
  if (type.namespaced && meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  const current = context.store.get(type, namespace, name);
  if (!current) throw notFound(type.resource, name, type.group);
  const resourceVersion = typeof meta.resourceVersion === 'string' ? meta.resourceVersion : '';
  if (resourceVersion === '' && !type.unconditionalUpdate) {
    rejectInvalid(type, name, [invalidValue('metadata.resourceVersion', 0, 'must be specified for an update')]);
  }
  return writeUpdate(context, type, current, draft, options, { resourceVersion });
}

/**
 * The common part of PUT and PATCH: system metadata kept, status kept (or only status changed),
 * defaults and validation, generation, managedFields, then the write (none when nothing changed,
 * as kube-apiserver skips no-op updates).
 */
export function writeUpdate(context: WriteContext, type: ResourceType, current: KubeObject, draft: DraftObject, options: WriteOptions, preconditions: Preconditions): KubeObject {
  const currentMeta = metadataOf(current);
  const name = currentMeta.name ?? '';
  let next: DraftObject = draft;
  if (options.subresource === 'status') {
    next = mutableCopy(current);
    if (draft.status === undefined) delete next.status;
    else next.status = draft.status;
    if (draft.metadata.managedFields !== undefined) next.metadata.managedFields = draft.metadata.managedFields;
  } else if (type.statusSubresource) {
    if (current.status === undefined) delete next.status;
    else next.status = structuredClone(current.status);
  }
  const meta = next.metadata;
  for (const key of ['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
    if (currentMeta[key] === undefined) delete meta[key];
    else meta[key] = structuredClone(currentMeta[key]);
  }
  meta.resourceVersion = currentMeta.resourceVersion;
  if (options.subresource !== 'status') rejectInvalid(type, name, [...validateMetadataMaps(meta), ...type.prepare(next, current, context)]);
  if (type.generation && !jsonEqual(WITHOUT_METADATA_AND_STATUS(next), WITHOUT_METADATA_AND_STATUS(current))) {
    meta.generation = (currentMeta.generation ?? 0) + 1;
  }
  if (!options.ownersComputed) trackUpdate(current, next, fieldContext(type, options));
  context.store.require(type, currentMeta.namespace ?? '', name, preconditions);
  if (currentMeta.deletionTimestamp !== undefined && (!Array.isArray(meta.finalizers) || meta.finalizers.length === 0)) {
    // The last finalizer is gone: a deletion that was waiting for it completes.
    if (options.dryRun) return presentAs(type, next);
    return presentAs(type, removeObject(context, type, current));
  }
  if (jsonEqual(next, current)) return presentAs(type, current);
  return store(context, type, next, current, preconditions, options);
}

/** Server-side apply (`application/apply-patch+yaml`): creates the object or merges the configuration into it. */
export function applyObject(context: WriteContext, type: ResourceType, namespace: string, name: string, body: unknown, options: WriteOptions & { force: boolean }): { object: KubeObject; created: boolean } {
  if (!isObject(body) || body.apiVersion === undefined || body.kind === undefined) {
    throw badRequest('error decoding YAML: an apply configuration needs apiVersion, kind and metadata.name');
  }
  const applied = draftOf(type, body);
  if (applied.metadata.name !== name) throw badRequest(`the name of the object (${describeValue(applied.metadata.name ?? '')}) does not match the name on the URL (${name})`);
  if (applied.metadata.managedFields !== undefined) throw badRequest('metadata.managedFields must be nil');
  if (type.namespaced) applied.metadata.namespace = namespace;
  const resourceVersion = typeof applied.metadata.resourceVersion === 'string' ? applied.metadata.resourceVersion : '';
  delete applied.metadata.resourceVersion;
  const current = context.store.get(type, namespace, name);
  const merged = applyConfiguration(current && presentAs(type, current), applied, options.force, fieldContext(type, options));
  const write = { ...options, ownersComputed: true };
  if (!current) {
    if (resourceVersion !== '') throw notFound(type.resource, name, type.group);
    return { object: createObject(context, type, namespace, merged, write), created: true };
  }
  return { object: writeUpdate(context, type, current, merged, write, { resourceVersion }), created: false };
}

/** Deletes at once, first everything a namespace or a CRD holds (the fake runs no finalizing controllers). */
function removeObject(context: WriteContext, type: ResourceType, object: KubeObject, preconditions: Preconditions = {}): KubeObject {
  const { namespace = '', name = '' } = metadataOf(object);
  if (type.resource === 'namespaces' && type.group === '') {
    for (const contained of context.types.all().filter((t) => t.namespaced)) {
      for (const item of context.store.list(contained, name)) context.store.delete(contained, name, metadataOf(item).name ?? '');
    }
  }
  if (type.resource === 'customresourcedefinitions' && type.group === 'apiextensions.k8s.io') {
    const spec = isObject(object.spec) ? object.spec : {};
    const names = isObject(spec.names) ? spec.names : {};
    const key = { group: stringOr(spec.group), resource: stringOr(names.plural) };
    for (const item of context.store.list(key)) context.store.delete(key, metadataOf(item).namespace ?? '', metadataOf(item).name ?? '');
    context.types.removeCrd(name);
  }
  return context.store.delete(type, namespace, name, preconditions);
}

/**
 * DELETE of one object. Objects with finalizers get a deletionTimestamp and stay until an update
 * removes the last finalizer (202); others go at once (200). Namespaces pass through Terminating.
 */
export function deleteObject(context: WriteContext, type: ResourceType, namespace: string, name: string, preconditions: Preconditions, options: { dryRun?: boolean } = {}): { object: KubeObject; deleted: boolean } {
  const current = context.store.get(type, namespace, name);
  if (!current) throw notFound(type.resource, name, type.group);
  context.store.require(type, namespace, name, preconditions);
  const finalizers = metadataOf(current).finalizers ?? [];
  const terminating = type.resource === 'namespaces' && type.group === '';
  if (finalizers.length > 0 || terminating) {
    const draft = mutableCopy(current);
    draft.metadata.deletionTimestamp ??= rfc3339(new Date());
    if (terminating) draft.status = { ...(isObject(draft.status) ? draft.status : {}), phase: 'Terminating' };
    if (options.dryRun) return { object: presentAs(type, draft), deleted: false };
    const marked = metadataOf(current).deletionTimestamp === undefined ? context.store.update(type, draft) : current;
    if (finalizers.length > 0) return { object: presentAs(type, marked), deleted: false };
    removeObject(context, type, marked);
    return { object: presentAs(type, marked), deleted: true };
  }
  if (options.dryRun) return { object: presentAs(type, current), deleted: true };
  return { object: presentAs(type, removeObject(context, type, current)), deleted: true };
}

function store(context: WriteContext, type: ResourceType, draft: DraftObject, current: KubeObject | undefined, preconditions: Preconditions, options: WriteOptions): KubeObject {
  const storageType = context.types.storageType(type.group, type.resource) ?? type;
  draft.apiVersion = apiVersionOf(storageType);
  if (options.dryRun) return presentAs(type, draft);
  const stored = current ? context.store.update(type, draft, preconditions) : context.store.create(type, draft);
  if (type.resource === 'customresourcedefinitions' && type.group === 'apiextensions.k8s.io') context.types.defineCrd(stored);
  return presentAs(type, stored);
}
