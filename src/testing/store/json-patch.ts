import { isObject, jsonEqual } from './objects.ts';

/**
 * Why a patch failed: `decode` when the patch itself is malformed (kube-apiserver: 400 BadRequest),
 * `apply` when it does not fit the object (422, as the apiserver answers a failed JSON patch op).
 */
export class PatchError extends Error {
  readonly stage: 'decode' | 'apply';

  constructor(stage: 'decode' | 'apply', message: string) {
    super(message);
    this.name = 'PatchError';
    this.stage = stage;
  }
}

/** kube-apiserver refuses JSON patches with more operations than this. */
const MAX_JSON_PATCH_OPERATIONS = 10_000;

type Operation =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string };

/** RFC 6901 pointer tokens: `/a~1b/~0c` is `["a/b", "~c"]`. */
function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError('apply', `JSON pointer ${JSON.stringify(pointer)} must be empty or start with "/"`);
  return pointer.slice(1).split('/').map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function decodeOperations(patch: unknown): Operation[] {
  if (!Array.isArray(patch)) throw new PatchError('decode', 'a JSON patch must be an array of operations, e.g. [{"op":"replace","path":"/spec/replicas","value":2}]');
  if (patch.length > MAX_JSON_PATCH_OPERATIONS) throw new PatchError('decode', `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${patch.length}`);
  return patch.map((entry: unknown, index) => {
    const where = `operation ${index}`;
    if (!isObject(entry)) throw new PatchError('decode', `${where} of the JSON patch must be an object with "op" and "path"`);
    const { op, path } = entry;
    if (typeof path !== 'string') throw new PatchError('decode', `${where} ("${String(op)}") has no "path" string`);
    switch (op) {
      case 'add':
      case 'replace':
      case 'test':
        if (!('value' in entry)) throw new PatchError('decode', `${where} ("${op}" ${path}) has no "value"`);
        return { op, path, value: entry.value };
      case 'remove':
        return { op, path };
      case 'move':
      case 'copy':
        if (typeof entry.from !== 'string') throw new PatchError('decode', `${where} ("${op}" ${path}) has no "from" string`);
        return { op, from: entry.from, path };
      default:
        throw new PatchError('decode', `${where}: unknown op ${JSON.stringify(op)}; use add, remove, replace, move, copy or test`);
    }
  });
}

/** The container a pointer's last token lives in, and that token. */
function locate(document: unknown, pointer: string): { parent: unknown; key: string } {
  const tokens = parsePointer(pointer);
  const key = tokens.pop();
  if (key === undefined) return { parent: undefined, key: '' };
  let parent: unknown = document;
  for (const token of tokens) {
    parent = child(parent, token, pointer);
  }
  return { parent, key };
}

function arrayIndex(array: unknown[], token: string, pointer: string, allowEnd: boolean): number {
  if (allowEnd && token === '-') return array.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new PatchError('apply', `${pointer}: ${JSON.stringify(token)} is not an array index`);
  const index = Number(token);
  if (index > array.length || (!allowEnd && index === array.length)) throw new PatchError('apply', `${pointer}: index ${index} is out of bounds (the array has ${array.length} items)`);
  return index;
}

function child(parent: unknown, token: string, pointer: string): unknown {
  if (Array.isArray(parent)) return parent[arrayIndex(parent, token, pointer, false)];
  if (isObject(parent) && token in parent) return parent[token];
  throw new PatchError('apply', `doc is missing path: ${JSON.stringify(pointer)}`);
}

function read(document: unknown, pointer: string): unknown {
  return parsePointer(pointer).reduce((value, token) => child(value, token, pointer), document);
}

function add(document: unknown, pointer: string, value: unknown): unknown {
  if (pointer === '') return value;
  const { parent, key } = locate(document, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, pointer, true), 0, value);
  else if (isObject(parent)) parent[key] = value;
  else throw new PatchError('apply', `doc is missing path: ${JSON.stringify(pointer)}`);
  return document;
}

function remove(document: unknown, pointer: string): unknown {
  if (pointer === '') throw new PatchError('apply', 'cannot remove the whole document');
  const { parent, key } = locate(document, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, pointer, false), 1);
  else if (isObject(parent) && key in parent) delete parent[key];
  else throw new PatchError('apply', `unable to remove nonexistent key: ${key}: missing value`);
  return document;
}

/** Applies an RFC 6902 JSON patch to a copy of `document`. */
export function applyJsonPatch(document: unknown, patch: unknown): unknown {
  let result = structuredClone(document);
  for (const operation of decodeOperations(patch)) {
    switch (operation.op) {
      case 'add':
        result = add(result, operation.path, structuredClone(operation.value));
        break;
      case 'remove':
        result = remove(result, operation.path);
        break;
      case 'replace':
        read(result, operation.path);
        result = operation.path === '' ? structuredClone(operation.value) : add(remove(result, operation.path), operation.path, structuredClone(operation.value));
        break;
      case 'move': {
        if (operation.path.startsWith(`${operation.from}/`)) throw new PatchError('apply', `cannot move ${operation.from} into its own child ${operation.path}`);
        const value = read(result, operation.from);
        result = add(remove(result, operation.from), operation.path, value);
        break;
      }
      case 'copy':
        result = add(result, operation.path, structuredClone(read(result, operation.from)));
        break;
      case 'test':
        if (!jsonEqual(read(result, operation.path), operation.value)) throw new PatchError('apply', `testing value ${operation.path} failed: test failed`);
        break;
    }
  }
  return result;
}

/** Applies an RFC 7386 JSON merge patch: objects merge, `null` removes, anything else replaces. */
export function applyMergePatch(document: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isObject(document) ? { ...document } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}
