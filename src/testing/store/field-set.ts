import { isObject, type KubeObject } from './objects.ts';
import { fieldSchema, listKeysOf, type FieldSchema } from './schema.ts';

/**
 * Field sets as server-side apply's `managedFields` record them (`fieldsV1`): a path is a list of
 * keys, `f:<field>` for an object field, `k:{"name":"app"}` for the item of a keyed list, `v:<json>`
 * for a member of a set, and `.` for a list item itself. Sets hold paths as JSON strings.
 */
export type FieldPath = readonly string[];

/** Metadata the system owns: never part of anyone's field set. */
const SYSTEM_METADATA = new Set([
  'name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp',
  'deletionGracePeriodSeconds', 'managedFields', 'selfLink', 'generateName',
]);

export type FieldScope = 'all' | 'main' | 'status';

/** The leaf paths an object sets. `main` leaves out `status`, `status` keeps only it. */
export function fieldSetOf(object: KubeObject, schema: FieldSchema, scope: FieldScope = 'all'): Set<string> {
  const paths = new Set<string>();
  for (const [key, value] of Object.entries(object)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    if ((scope === 'main' && key === 'status') || (scope === 'status' && key !== 'status')) continue;
    if (key === 'metadata' && isObject(value)) {
      for (const [metaKey, metaValue] of Object.entries(value)) {
        if (!SYSTEM_METADATA.has(metaKey)) collect(metaValue, fieldSchema(fieldSchema(schema, 'metadata'), metaKey), ['f:metadata', `f:${metaKey}`], paths);
      }
      continue;
    }
    collect(value, fieldSchema(schema, key), [`f:${key}`], paths);
  }
  return paths;
}

function collect(value: unknown, schema: FieldSchema | undefined, path: string[], paths: Set<string>): void {
  if (isObject(value) && Object.keys(value).length > 0) {
    for (const [key, child] of Object.entries(value)) collect(child, fieldSchema(schema, key), [...path, `f:${key}`], paths);
    return;
  }
  const keys = listKeysOf(schema);
  if (Array.isArray(value) && keys && value.length > 0 && value.every(isObject)) {
    for (const item of value) {
      const itemPath = [...path, itemKey(item, keys)];
      paths.add(JSON.stringify([...itemPath, '.']));
      for (const [key, child] of Object.entries(item)) collect(child, fieldSchema(schema?.items, key), [...itemPath, `f:${key}`], paths);
    }
    return;
  }
  if (Array.isArray(value) && schema?.set && value.length > 0) {
    for (const item of value) paths.add(JSON.stringify([...path, `v:${JSON.stringify(item)}`]));
    return;
  }
  paths.add(JSON.stringify(path));
}

/** `k:{"containerPort":80,"protocol":"TCP"}`: the key fields of a list item, in key order. */
function itemKey(item: Record<string, unknown>, keys: readonly string[]): string {
  return `k:${JSON.stringify(Object.fromEntries(keys.filter((key) => item[key] !== undefined).map((key) => [key, item[key]])))}`;
}

/** Parses the JSON of a `k:` or `v:` step; `undefined` when malformed (managedFields a client sent). */
function stepJson(step: string): unknown {
  try {
    return JSON.parse(step.slice(2)) as unknown;
  } catch {
    return undefined;
  }
}

function matchesKey(item: unknown, key: string): boolean {
  const wanted = stepJson(key);
  if (!isObject(item) || !isObject(wanted)) return false;
  return Object.entries(wanted).every(([field, value]) => JSON.stringify(item[field]) === JSON.stringify(value));
}

/** The value a path leads to, if the object has it. */
export function valueAt(object: unknown, path: FieldPath): { found: boolean; value?: unknown } {
  let current: unknown = object;
  for (const step of path) {
    if (step === '.') return { found: true, value: current };
    if (step.startsWith('f:')) {
      if (!isObject(current) || !(step.slice(2) in current)) return { found: false };
      current = current[step.slice(2)];
    } else if (step.startsWith('k:')) {
      const item: unknown = Array.isArray(current) ? (current as unknown[]).find((entry) => matchesKey(entry, step)) : undefined;
      if (item === undefined) return { found: false };
      current = item;
    } else if (step.startsWith('v:')) {
      const wanted = step.slice(2);
      return { found: Array.isArray(current) && current.some((entry) => JSON.stringify(entry) === wanted), value: stepJson(step) };
    } else {
      return { found: false };
    }
  }
  return { found: true, value: current };
}

/** Removes what a path leads to from a mutable object (a field, a list item, a set member). */
export function removePath(object: Record<string, unknown>, path: FieldPath): void {
  const last = path.at(-1);
  if (last === undefined) return;
  if (last === '.') {
    removePath(object, path.slice(0, -1));
    return;
  }
  const parent = valueAt(object, path.slice(0, -1));
  if (!parent.found) return;
  const container = parent.value;
  if (last.startsWith('f:') && isObject(container)) delete container[last.slice(2)];
  else if ((last.startsWith('k:') || last.startsWith('v:')) && Array.isArray(container)) {
    const index = container.findIndex((entry) => (last.startsWith('k:') ? matchesKey(entry, last) : JSON.stringify(entry) === last.slice(2)));
    if (index !== -1) container.splice(index, 1);
  }
}

/** The `fieldsV1` tree of a set, e.g. `{"f:spec":{"f:replicas":{}}}`. */
export function toFieldsV1(paths: Iterable<string>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const text of paths) {
    let node = root;
    for (const step of JSON.parse(text) as string[]) {
      node[step] ??= {};
      node = node[step] as Record<string, unknown>;
    }
  }
  return root;
}

/** The set a `fieldsV1` tree describes (leaves only); malformed parts are ignored. */
export function fromFieldsV1(tree: unknown): Set<string> {
  const paths = new Set<string>();
  const walk = (node: unknown, path: string[]) => {
    if (!isObject(node)) return;
    const entries = Object.entries(node);
    if (entries.length === 0 && path.length > 0) paths.add(JSON.stringify(path));
    for (const [key, child] of entries) walk(child, [...path, key]);
  };
  walk(tree, []);
  return paths;
}

/** `.spec.containers[name="app"].image`, as conflict messages name a field. */
export function describePath(path: FieldPath): string {
  return path
    .filter((step) => step !== '.')
    .map((step) => {
      if (step.startsWith('f:')) return `.${step.slice(2)}`;
      if (step.startsWith('k:')) {
        const keys = isObject(stepJson(step)) ? (stepJson(step) as Record<string, unknown>) : {};
        return `[${Object.entries(keys).map(([key, value]) => `${key}=${JSON.stringify(value)}`).join(',')}]`;
      }
      return `[=${step.slice(2)}]`;
    })
    .join('');
}
