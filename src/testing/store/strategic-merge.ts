import { PatchError } from './json-patch.ts';
import { isObject, jsonEqual } from './objects.ts';
import { fieldSchema, type FieldSchema } from './schema.ts';

/**
 * Strategic merge patch as kube-apiserver applies it to built-in kinds (what `kubectl apply`,
 * `kubectl edit` and `kubectl patch` send): objects merge field by field and `null` deletes; lists
 * with a merge key (containers by `name`, ports by `containerPort`, ...) merge item by item, lists
 * of scalars with the merge strategy (finalizers) as sets, other lists are replaced. Directives:
 * `$patch: replace | delete | merge`, `$retainKeys`, `$setElementOrder/<field>`,
 * `$deleteFromPrimitiveList/<field>`.
 */
export function applyStrategicMergePatch(document: unknown, patch: unknown, schema: FieldSchema): unknown {
  if (!isObject(patch)) throw new PatchError('decode', 'a strategic merge patch must be a JSON object');
  const merged = mergeObject(isObject(document) ? document : {}, patch, schema);
  if (merged === undefined) throw new PatchError('apply', '$patch: delete cannot delete the whole object');
  return merged;
}

const SET_ORDER = '$setElementOrder/';
const DELETE_FROM_LIST = '$deleteFromPrimitiveList/';

/** A patch value with every directive removed and nulls dropped, for fields that did not exist. */
function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((item) => !(isObject(item) && item.$patch === 'delete')).map(stripDirectives);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key, item]) => !key.startsWith('$') && item !== null)
      .map(([key, item]) => [key, stripDirectives(item)]),
  );
}

/** The merged object, or `undefined` when the patch says `$patch: delete`. */
function mergeObject(original: Record<string, unknown>, patch: Record<string, unknown>, schema: FieldSchema | undefined): Record<string, unknown> | undefined {
  switch (patch.$patch) {
    case undefined:
    case 'merge':
      break;
    case 'replace':
      return stripDirectives(patch) as Record<string, unknown>;
    case 'delete':
      return undefined;
    default:
      throw new PatchError('decode', `unknown $patch directive ${JSON.stringify(patch.$patch)} in a map; use replace, delete or merge`);
  }
  const result: Record<string, unknown> = { ...original };
  const orders: [string, unknown][] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith(SET_ORDER)) {
      orders.push([key.slice(SET_ORDER.length), value]);
      continue;
    }
    if (key.startsWith(DELETE_FROM_LIST)) {
      const field = key.slice(DELETE_FROM_LIST.length);
      if (!Array.isArray(value)) throw new PatchError('decode', `${key} must be a list of values to delete`);
      if (Array.isArray(result[field])) result[field] = (result[field] as unknown[]).filter((item) => !value.some((gone) => jsonEqual(gone, item)));
      continue;
    }
    if (key.startsWith('$')) throw new PatchError('decode', `unknown strategic merge patch directive ${JSON.stringify(key)}`);
    const childSchema = fieldSchema(schema, key);
    if (value === null) delete result[key];
    else if (isObject(value) && isObject(result[key])) {
      const merged = mergeObject(result[key], value, childSchema);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else if (isObject(value)) {
      if (value.$patch === 'delete') delete result[key];
      else result[key] = stripDirectives(value);
    } else if (Array.isArray(value)) result[key] = mergeList(Array.isArray(result[key]) ? (result[key] as unknown[]) : [], value, childSchema, key);
    else result[key] = value;
  }
  for (const [field, order] of orders) {
    if (Array.isArray(result[field])) result[field] = reorder(result[field] as unknown[], order, fieldSchema(schema, field), field);
  }
  if (Array.isArray(patch.$retainKeys)) {
    const retain = new Set(patch.$retainKeys.map(String));
    for (const key of Object.keys(result)) if (!retain.has(key)) delete result[key];
  }
  return result;
}

function mergeList(original: unknown[], patch: unknown[], schema: FieldSchema | undefined, field: string): unknown[] {
  const mergeKey = schema?.mergeKey;
  if (mergeKey !== undefined && patch.every(isObject)) {
    const items = patch;
    if (items.some((item) => item.$patch === 'replace')) return items.filter((item) => item.$patch !== 'replace').map(stripDirectives);
    const result = [...original];
    for (const item of items) {
      if (!(mergeKey in item)) throw new PatchError('apply', `map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`);
      const index = result.findIndex((entry) => isObject(entry) && jsonEqual(entry[mergeKey], item[mergeKey]));
      if (item.$patch === 'delete') {
        if (index !== -1) result.splice(index, 1);
        continue;
      }
      if (index === -1) result.push(stripDirectives(item));
      else {
        const merged = mergeObject(result[index] as Record<string, unknown>, item, schema?.items);
        if (merged === undefined) result.splice(index, 1);
        else result[index] = merged;
      }
    }
    return result;
  }
  if (schema?.set) return [...original, ...patch.filter((item) => !original.some((entry) => jsonEqual(entry, item)))];
  if (patch.some((item) => isObject(item) && item.$patch !== undefined)) {
    throw new PatchError('apply', `${field} is a list without a merge key: directives such as $patch cannot address its items`);
  }
  return structuredClone(patch);
}

/** `$setElementOrder`: the listed items first, in that order, then the others as they were. */
function reorder(items: unknown[], order: unknown, schema: FieldSchema | undefined, field: string): unknown[] {
  if (!Array.isArray(order)) throw new PatchError('decode', `${SET_ORDER}${field} must be a list`);
  const mergeKey = schema?.mergeKey;
  const identity = (item: unknown) => (mergeKey !== undefined && isObject(item) ? item[mergeKey] : item);
  const wanted = order.map(identity);
  const position = (item: unknown) => {
    const index = wanted.findIndex((key) => jsonEqual(key, identity(item)));
    return index === -1 ? wanted.length : index;
  };
  return items.map((item, index) => ({ item, index })).sort((a, b) => position(a.item) - position(b.item) || a.index - b.index).map(({ item }) => item);
}
