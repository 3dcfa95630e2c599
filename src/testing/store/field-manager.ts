import { rfc3339 } from '../pods.ts';
import { StatusError } from '../status.ts';
import { describePath, fieldSetOf, fromFieldsV1, removePath, toFieldsV1, valueAt, type FieldScope } from './field-set.ts';
import { isObject, jsonEqual, metadataOf, type KubeObject } from './objects.ts';
import type { DraftObject } from './resource-type.ts';
import { fieldSchema, listKeysOf, type FieldSchema } from './schema.ts';

/** One `metadata.managedFields` entry: who set which fields, by apply or by update. */
interface ManagedEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  subresource: string | undefined;
  fields: Set<string>;
}

/** How a write is recorded. */
export interface FieldManagerContext {
  readonly manager: string;
  readonly apiVersion: string;
  readonly schema: FieldSchema;
  /** `status` for writes to the status subresource. */
  readonly subresource: string | undefined;
  /** The kind has a status subresource, so main-resource writes do not own status fields. */
  readonly statusSubresource: boolean;
}

function readEntries(object: KubeObject | undefined): ManagedEntry[] {
  const entries = object ? metadataOf(object).managedFields : undefined;
  if (!Array.isArray(entries)) return [];
  return entries.filter(isObject).flatMap((entry) => {
    if (typeof entry.manager !== 'string' || (entry.operation !== 'Apply' && entry.operation !== 'Update')) return [];
    return [{
      manager: entry.manager,
      operation: entry.operation,
      apiVersion: typeof entry.apiVersion === 'string' ? entry.apiVersion : '',
      time: typeof entry.time === 'string' ? entry.time : '',
      subresource: typeof entry.subresource === 'string' && entry.subresource !== '' ? entry.subresource : undefined,
      fields: fromFieldsV1(entry.fieldsV1),
    }];
  });
}

function writeEntries(draft: DraftObject, entries: readonly ManagedEntry[]): void {
  const kept = entries.filter((entry) => entry.fields.size > 0);
  if (kept.length === 0) {
    delete draft.metadata.managedFields;
    return;
  }
  draft.metadata.managedFields = kept.map((entry) => ({
    manager: entry.manager,
    operation: entry.operation,
    apiVersion: entry.apiVersion,
    time: entry.time,
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(entry.fields),
    ...(entry.subresource ? { subresource: entry.subresource } : {}),
  }));
}

function scopeOf(context: FieldManagerContext): FieldScope {
  if (context.subresource === 'status') return 'status';
  return context.statusSubresource ? 'main' : 'all';
}

function ownEntry(entries: ManagedEntry[], context: FieldManagerContext, operation: ManagedEntry['operation']): ManagedEntry {
  let entry = entries.find((e) => e.manager === context.manager && e.operation === operation && e.subresource === context.subresource);
  if (!entry) {
    entry = { manager: context.manager, operation, apiVersion: context.apiVersion, time: '', subresource: context.subresource, fields: new Set() };
    entries.push(entry);
  }
  entry.apiVersion = context.apiVersion;
  entry.time = rfc3339(new Date());
  return entry;
}

/**
 * Records a create, update or patch in `draft.metadata.managedFields`: the writer owns the fields it
 * added or changed (taking them from every other manager), and removed fields leave every set. A
 * client that sends managedFields of its own (kubectl upgrading client-side apply) has them kept.
 */
export function trackUpdate(previous: KubeObject | undefined, draft: DraftObject, context: FieldManagerContext): void {
  const sent = draft.metadata.managedFields;
  const base = sent !== undefined && previous && !jsonEqual(sent, metadataOf(previous).managedFields) ? draft : previous;
  const entries = readEntries(base);
  const scope = scopeOf(context);
  const before = previous ? fieldSetOf(previous, context.schema, scope) : new Set<string>();
  const after = fieldSetOf(draft, context.schema, scope);
  const changed = [...after].filter((path) => !before.has(path) || !jsonEqual(valueAt(previous, JSON.parse(path) as string[]).value, valueAt(draft, JSON.parse(path) as string[]).value));
  const removed = [...before].filter((path) => !after.has(path));
  if (changed.length === 0 && removed.length === 0) {
    writeEntries(draft, entries);
    return;
  }
  const own = changed.length > 0 ? ownEntry(entries, context, 'Update') : undefined;
  for (const entry of entries) {
    for (const path of removed) entry.fields.delete(path);
    if (entry !== own) for (const path of changed) entry.fields.delete(path);
  }
  for (const path of changed) own?.fields.add(path);
  writeEntries(draft, entries);
}

/** Merges an apply configuration into an object: maps field by field, keyed lists item by item, other lists whole. */
function mergeApplied(current: unknown, applied: unknown, schema: FieldSchema | undefined): unknown {
  const currentList: unknown[] | undefined = Array.isArray(current) ? current : undefined;
  if (isObject(applied)) {
    const result: Record<string, unknown> = isObject(current) ? { ...current } : {};
    for (const [key, value] of Object.entries(applied)) {
      if (value === null) delete result[key];
      else result[key] = mergeApplied(result[key], value, fieldSchema(schema, key));
    }
    return result;
  }
  const keys = listKeysOf(schema);
  if (Array.isArray(applied) && currentList && keys && applied.every(isObject)) {
    const result = [...currentList];
    for (const item of applied) {
      const index = result.findIndex((entry) => isObject(entry) && keys.every((key) => jsonEqual(entry[key], item[key])));
      if (index === -1) result.push(item);
      else result[index] = mergeApplied(result[index], item, schema?.items);
    }
    return result;
  }
  if (Array.isArray(applied) && currentList && schema?.set) {
    const appliedList: unknown[] = applied;
    return [...currentList, ...appliedList.filter((item) => !currentList.some((entry) => jsonEqual(entry, item)))];
  }
  return structuredClone(applied);
}

function conflictError(conflicts: readonly { manager: string; apiVersion: string; path: string[] }[]): StatusError {
  const managers = [...new Set(conflicts.map((c) => `"${c.manager}" using ${c.apiVersion}`))];
  const fields = conflicts.map((c) => describePath(c.path));
  const message =
    conflicts.length === 1
      ? `Apply failed with 1 conflict: conflict with ${managers[0] ?? ''}: ${fields[0] ?? ''}`
      : `Apply failed with ${conflicts.length} conflicts: ${managers.map((m) => `conflicts with ${m}`).join(', ')}:\n${fields.map((f) => `- ${f}`).join('\n')}`;
  return new StatusError('Conflict', message, {
    causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}" using ${c.apiVersion}`, field: describePath(c.path) })),
  });
}

/**
 * Server-side apply: merges `applied` into `current` (or creates it), with the manager owning
 * exactly the fields of its configuration. A field another manager set to a different value is a
 * 409 Conflict naming the field, unless `force` takes it over; fields the manager applied before
 * and no longer does are removed when nobody else owns them.
 */
export function applyConfiguration(current: KubeObject | undefined, applied: Record<string, unknown>, force: boolean, context: FieldManagerContext): DraftObject {
  const scope = scopeOf(context);
  const entries = readEntries(current);
  const appliedFields = fieldSetOf(applied, context.schema, scope);
  const conflicts: { manager: string; apiVersion: string; path: string[]; entry: ManagedEntry }[] = [];
  for (const entry of entries) {
    if (entry.manager === context.manager && entry.operation === 'Apply') continue;
    for (const text of entry.fields) {
      const path = JSON.parse(text) as string[];
      if (!appliedFields.has(text) || path.at(-1) === '.') continue;
      if (!jsonEqual(valueAt(current, path).value, valueAt(applied, path).value)) conflicts.push({ manager: entry.manager, apiVersion: entry.apiVersion, path, entry });
    }
  }
  if (conflicts.length > 0 && !force) throw conflictError(conflicts);
  for (const { entry, path } of conflicts) entry.fields.delete(JSON.stringify(path));

  const own = ownEntry(entries, context, 'Apply');
  const previouslyApplied = own.fields;
  const base = current ? structuredClone(current) : { metadata: {} };
  const merged = mergeApplied(base, applied, context.schema) as DraftObject;
  const ownedByOthers = new Set(entries.filter((entry) => entry !== own).flatMap((entry) => [...entry.fields]));
  for (const text of previouslyApplied) {
    if (!appliedFields.has(text) && !ownedByOthers.has(text)) removePath(merged, JSON.parse(text) as string[]);
  }
  own.fields = appliedFields;
  writeEntries(merged, entries);
  return merged;
}
