/** A Kubernetes object as JSON (what the fake stores and serves). */
export type KubeObject = Readonly<Record<string, unknown>>;

/** The metadata fields the fake reads. */
export interface ObjectMeta {
  readonly name?: string;
  readonly generateName?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly creationTimestamp?: string;
  readonly deletionTimestamp?: string;
  readonly deletionGracePeriodSeconds?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly finalizers?: readonly string[];
  readonly managedFields?: readonly Readonly<Record<string, unknown>>[];
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function metadataOf(object: KubeObject): ObjectMeta {
  return isObject(object.metadata) ? object.metadata : {};
}

/** A mutable deep copy, for building the next version of an object. */
export function mutableCopy(object: KubeObject): Record<string, unknown> & { metadata: Record<string, unknown> } {
  const copy = structuredClone(object) as Record<string, unknown>;
  if (!isObject(copy.metadata)) copy.metadata = {};
  return copy as Record<string, unknown> & { metadata: Record<string, unknown> };
}

/** Freezes stored objects so that no reader can change what the store (and every watch) holds. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Structural equality of JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, index) => jsonEqual(item, b[index]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && jsonEqual(a[key], b[key]));
  }
  return false;
}

/** A string field's value, or `fallback` when the field holds anything else. */
export function stringOr(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback;
}

/** A value as messages quote it: strings as they are, anything else as JSON. */
export function describeValue(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
}
