/**
 * Reading the JSON the API server streams for a watch and answers for a list: the resourceVersion
 * and the object's identity are what a shared watch needs; the bytes are passed on untouched.
 * Objects as Tables (`kubectl get -w`) carry them in their single row. Pure.
 */

/** An upstream watch event, as far as a shared watch reads it. */
export type ParsedEvent =
  | { readonly kind: 'change'; readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly resourceVersion: number; readonly objectKey: string; readonly object: unknown }
  | { readonly kind: 'bookmark'; readonly resourceVersion: number }
  | { readonly kind: 'error'; readonly status: unknown }
  /** Not a watch event with a decimal resourceVersion: the watch cannot be shared. */
  | { readonly kind: 'unreadable'; readonly why: string };

/** The current objects of a list, keyed by namespace and name, at the list's resourceVersion. */
export interface ParsedList {
  readonly resourceVersion: number;
  /** Each object as a watch event would carry it (a Table row as a one-row Table). */
  readonly objects: ReadonlyMap<string, unknown>;
  /** What a bookmark of this watch carries as `kind` and `apiVersion`. */
  readonly bookmarkType: { readonly kind: string; readonly apiVersion: string };
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A decimal resourceVersion as a number, or `undefined` (etcd's are decimal; aggregated APIs may differ). */
export function decimalResourceVersion(value: unknown): number | undefined {
  return typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}

/** The metadata the identity and the version of an object are read from: a Table's row object's, else its own. */
function metadataOf(object: Json): Json | undefined {
  if (object.kind === 'Table') {
    const rows = object.rows;
    const row = Array.isArray(rows) && rows.length === 1 ? (rows[0] as unknown) : undefined;
    return isObject(row) && isObject(row.object) && isObject(row.object.metadata) ? row.object.metadata : undefined;
  }
  return isObject(object.metadata) ? object.metadata : undefined;
}

function identify(object: unknown): { resourceVersion: number; objectKey: string } | string {
  if (!isObject(object)) return 'an event without an object';
  const metadata = metadataOf(object);
  if (!metadata || typeof metadata.name !== 'string') return 'an object without a name';
  const resourceVersion = decimalResourceVersion(metadata.resourceVersion) ?? decimalResourceVersion(isObject(object.metadata) ? object.metadata.resourceVersion : undefined);
  if (resourceVersion === undefined) return 'an object whose resourceVersion is not a decimal integer';
  const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : '';
  return { resourceVersion, objectKey: `${namespace}/${metadata.name}` };
}

/** Reads one line of a watch stream. */
export function parseWatchLine(line: string): ParsedEvent {
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch {
    return { kind: 'unreadable', why: 'a line that is not JSON' };
  }
  if (!isObject(event)) return { kind: 'unreadable', why: 'an event that is not an object' };
  const { type, object } = event;
  if (type === 'ERROR') return { kind: 'error', status: object };
  if (type === 'BOOKMARK') {
    const version = isObject(object) && isObject(object.metadata) ? decimalResourceVersion(object.metadata.resourceVersion) : undefined;
    return version === undefined ? { kind: 'unreadable', why: 'a bookmark without a decimal resourceVersion' } : { kind: 'bookmark', resourceVersion: version };
  }
  if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return { kind: 'unreadable', why: `an event of type ${JSON.stringify(type)}` };
  const found = identify(object);
  if (typeof found === 'string') return { kind: 'unreadable', why: found };
  return { kind: 'change', type, ...found, object };
}

/** Reads a list body (a `<Kind>List`, or a Table), or says why it cannot back a shared watch. */
export function parseList(body: string): ParsedList | string {
  let list: unknown;
  try {
    list = JSON.parse(body);
  } catch {
    return 'the list is not JSON';
  }
  if (!isObject(list) || !isObject(list.metadata)) return 'the list has no metadata';
  const resourceVersion = decimalResourceVersion(list.metadata.resourceVersion);
  if (resourceVersion === undefined) return "the list's resourceVersion is not a decimal integer";
  const apiVersion = typeof list.apiVersion === 'string' ? list.apiVersion : '';
  const objects = new Map<string, unknown>();
  if (list.kind === 'Table') {
    if (!Array.isArray(list.rows)) return 'the Table has no rows';
    for (const row of list.rows as unknown[]) {
      const object = { kind: 'Table', apiVersion, metadata: {}, columnDefinitions: list.columnDefinitions, rows: [row] };
      const found = identify(object);
      if (typeof found === 'string') return `the Table holds ${found}`;
      (object.metadata as Json).resourceVersion = String(found.resourceVersion);
      objects.set(found.objectKey, object);
    }
    return { resourceVersion, objects, bookmarkType: { kind: 'Table', apiVersion } };
  }
  if (typeof list.kind !== 'string' || !list.kind.endsWith('List') || !Array.isArray(list.items)) return 'the answer is not a list';
  const kind = list.kind.slice(0, -'List'.length);
  for (const item of list.items as unknown[]) {
    if (!isObject(item)) return 'the list holds an item that is not an object';
    // Items of a typed list leave out their kind and apiVersion; watch events carry them.
    const object = { kind: item.kind ?? kind, apiVersion: item.apiVersion ?? apiVersion, ...item };
    const found = identify(object);
    if (typeof found === 'string') return `the list holds ${found}`;
    objects.set(found.objectKey, object);
  }
  return { resourceVersion, objects, bookmarkType: { kind, apiVersion } };
}

/** A watch event line, as the API server writes it. */
export const eventLine = (type: string, object: unknown): string => `${JSON.stringify({ type, object })}\n`;

/** The BOOKMARK a subscriber gets at `resourceVersion`; the one ending its initial events says so. */
export function bookmarkLine(type: ParsedList['bookmarkType'], resourceVersion: number, initialEventsEnd: boolean): string {
  return eventLine('BOOKMARK', {
    kind: type.kind,
    apiVersion: type.apiVersion,
    metadata: { resourceVersion: String(resourceVersion), creationTimestamp: null, ...(initialEventsEnd ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}) },
  });
}

/** The ERROR event for a resourceVersion older than the kept window, as the API server's watch cache sends it. */
export function expiredLine(resourceVersion: string, current: number): string {
  return eventLine('ERROR', {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `too old resource version: ${resourceVersion} (${current})`,
    reason: 'Expired',
    code: 410,
  });
}
