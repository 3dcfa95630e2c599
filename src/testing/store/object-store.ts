import { conflict, notFound, alreadyExists, StatusError } from '../status.ts';
import { type KubeObject, metadataOf, deepFreeze } from './objects.ts';

/** Which stored collection an object belongs to: the API group and the resource (plural). */
export interface ResourceKey {
  readonly group: string;
  readonly resource: string;
}

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One change, as watches carry it; `previous` is the object before the change (none for ADDED). */
export interface StoreEvent {
  readonly type: ChangeType;
  readonly key: ResourceKey;
  readonly object: KubeObject;
  readonly previous: KubeObject | undefined;
  readonly resourceVersion: number;
}

/** Preconditions of a write: it fails with 409 Conflict unless the stored object still has them. */
export interface Preconditions {
  readonly resourceVersion?: string | undefined;
  readonly uid?: string | undefined;
}

const keyString = (key: ResourceKey) => `${key.group}/${key.resource}`;
const objectKey = (namespace: string, name: string) => `${namespace}/${name}`;

/**
 * Objects of every kind the fake serves, under one resourceVersion counter like etcd's revision:
 * every write gets the next number, and its event is kept in a bounded window so that watches and
 * paginated lists can resume from a resourceVersion; older ones are "compacted" (410 Expired).
 */
export class ObjectStore {
  #revision = 1;
  /** Every event with a resourceVersion above this is still in `#history`. */
  #compacted = 1;
  readonly #window: number;
  readonly #collections = new Map<string, Map<string, KubeObject>>();
  readonly #history: StoreEvent[] = [];
  readonly #listeners = new Set<(event: StoreEvent) => void>();
  readonly #bookmarkListeners = new Set<() => void>();
  readonly #revisionWaiters = new Set<() => void>();

  /** @param window how many recent events are kept for resuming watches and lists. */
  constructor(window: number) {
    this.#window = window;
  }

  /** The resourceVersion of the latest write. */
  get resourceVersion(): number {
    return this.#revision;
  }

  /** The oldest resourceVersion a watch can still start from (its later events are all kept). */
  get compactedRevision(): number {
    return this.#compacted;
  }

  get(key: ResourceKey, namespace: string, name: string): KubeObject | undefined {
    return this.#collections.get(keyString(key))?.get(objectKey(namespace, name));
  }

  /** Objects sorted by namespace then name (etcd's key order); all namespaces when `namespace` is undefined. */
  list(key: ResourceKey, namespace?: string): KubeObject[] {
    return sortObjects([...(this.#collections.get(keyString(key))?.values() ?? [])].filter((object) => inNamespace(object, namespace)));
  }

  /**
   * The objects as they were at `resourceVersion` (a consistent snapshot for paginated lists), or
   * `undefined` when the events needed to rebuild it were compacted away.
   */
  listAt(key: ResourceKey, namespace: string | undefined, resourceVersion: number): KubeObject[] | undefined {
    if (resourceVersion >= this.#revision) return this.list(key, namespace);
    if (resourceVersion < this.#compacted) return undefined;
    const objects = new Map(this.#collections.get(keyString(key)) ?? []);
    for (let index = this.#history.length - 1; index >= 0; index--) {
      const event = this.#history[index];
      if (!event || event.resourceVersion <= resourceVersion) break;
      if (keyString(event.key) !== keyString(key)) continue;
      const { namespace: ns = '', name = '' } = metadataOf(event.object);
      if (event.previous) objects.set(objectKey(ns, name), event.previous);
      else objects.delete(objectKey(ns, name));
    }
    return sortObjects([...objects.values()].filter((object) => inNamespace(object, namespace)));
  }

  /** Namespaces that hold at least one object of any namespaced kind. */
  usedNamespaces(): Set<string> {
    const used = new Set<string>();
    for (const collection of this.#collections.values()) {
      for (const object of collection.values()) {
        const { namespace } = metadataOf(object);
        if (namespace) used.add(namespace);
      }
    }
    return used;
  }

  /** Stores a new object with the next resourceVersion; 409 AlreadyExists if the name is taken. */
  create(key: ResourceKey, object: KubeObject): KubeObject {
    const { namespace = '', name = '' } = metadataOf(object);
    const collection = this.#collection(key);
    if (collection.has(objectKey(namespace, name))) throw alreadyExists(key.resource, name, key.group);
    const stored = this.#stamp(object);
    collection.set(objectKey(namespace, name), stored);
    this.#emit({ type: 'ADDED', key, object: stored, previous: undefined });
    return stored;
  }

  /** Replaces a stored object; 404 if it is gone, 409 Conflict if a precondition no longer holds. */
  update(key: ResourceKey, object: KubeObject, preconditions: Preconditions = {}): KubeObject {
    const { namespace = '', name = '' } = metadataOf(object);
    const previous = this.require(key, namespace, name, preconditions);
    const stored = this.#stamp(object);
    this.#collection(key).set(objectKey(namespace, name), stored);
    this.#emit({ type: 'MODIFIED', key, object: stored, previous });
    return stored;
  }

  /** Removes an object; the DELETED event (and the result) carry the deletion's resourceVersion. */
  delete(key: ResourceKey, namespace: string, name: string, preconditions: Preconditions = {}): KubeObject {
    const previous = this.require(key, namespace, name, preconditions);
    this.#collection(key).delete(objectKey(namespace, name));
    const deleted = this.#stamp(previous);
    this.#emit({ type: 'DELETED', key, object: deleted, previous });
    return deleted;
  }

  /** Events after `resourceVersion` (for every kind), or `undefined` when some were compacted away. */
  eventsSince(resourceVersion: number): StoreEvent[] | undefined {
    if (resourceVersion < this.#compacted) return undefined;
    const first = this.#history.findIndex((event) => event.resourceVersion > resourceVersion);
    return first === -1 ? [] : this.#history.slice(first);
  }

  /** Forgets every kept event, as etcd compaction does: a watch or list from an older resourceVersion gets 410. */
  compact(): void {
    this.#history.length = 0;
    this.#compacted = this.#revision;
  }

  /**
   * Resolves once the store reached `resourceVersion`, or after `timeoutMs` with `false` (the
   * apiserver waits about 3 s for a resourceVersion newer than it has seen).
   */
  async waitForRevision(resourceVersion: number, timeoutMs: number): Promise<boolean> {
    if (this.#revision >= resourceVersion) return true;
    return new Promise((resolve) => {
      const check = () => {
        if (this.#revision < resourceVersion) return;
        clearTimeout(timer);
        this.#revisionWaiters.delete(check);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#revisionWaiters.delete(check);
        resolve(false);
      }, timeoutMs);
      this.#revisionWaiters.add(check);
    });
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Calls `listener` whenever a test asks for bookmarks ({@link ObjectStore.bookmark}). */
  onBookmark(listener: () => void): () => void {
    this.#bookmarkListeners.add(listener);
    return () => void this.#bookmarkListeners.delete(listener);
  }

  /** Asks watches that allow bookmarks to send one now (the apiserver sends them about every minute). */
  bookmark(): void {
    for (const listener of [...this.#bookmarkListeners]) listener();
  }

  #collection(key: ResourceKey): Map<string, KubeObject> {
    let collection = this.#collections.get(keyString(key));
    if (!collection) {
      collection = new Map();
      this.#collections.set(keyString(key), collection);
    }
    return collection;
  }

  /** The stored object; 404 if it is gone, 409 Conflict if a precondition no longer holds. */
  require(key: ResourceKey, namespace: string, name: string, preconditions: Preconditions = {}): KubeObject {
    const current = this.get(key, namespace, name);
    if (!current) throw notFound(key.resource, name, key.group);
    const meta = metadataOf(current);
    if (preconditions.uid !== undefined && preconditions.uid !== '' && preconditions.uid !== meta.uid) {
      throw conflict(key.resource, name, key.group, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${meta.uid ?? ''}`);
    }
    if (preconditions.resourceVersion !== undefined && preconditions.resourceVersion !== '' && preconditions.resourceVersion !== meta.resourceVersion) {
      throw conflict(key.resource, name, key.group);
    }
    return current;
  }

  /** A frozen copy with the next resourceVersion. */
  #stamp(object: KubeObject): KubeObject {
    const copy = structuredClone(object) as KubeObject & { metadata: Record<string, unknown> };
    if (typeof copy.metadata !== 'object' || copy.metadata === null) throw new StatusError('InternalError', 'Internal error occurred: an object without metadata reached the store');
    copy.metadata.resourceVersion = String(this.#revision + 1);
    return deepFreeze(copy);
  }

  #emit(event: Omit<StoreEvent, 'resourceVersion'>): void {
    this.#revision += 1;
    const stamped: StoreEvent = { ...event, resourceVersion: this.#revision };
    this.#history.push(stamped);
    while (this.#history.length > this.#window) {
      const dropped = this.#history.shift();
      if (dropped) this.#compacted = dropped.resourceVersion;
    }
    for (const listener of [...this.#listeners]) listener(stamped);
    for (const waiter of [...this.#revisionWaiters]) waiter();
  }
}

function inNamespace(object: KubeObject, namespace: string | undefined): boolean {
  return namespace === undefined || (metadataOf(object).namespace ?? '') === namespace;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function sortObjects(objects: KubeObject[]): KubeObject[] {
  return objects.sort((a, b) => {
    const left = metadataOf(a);
    const right = metadataOf(b);
    return compare(left.namespace ?? '', right.namespace ?? '') || compare(left.name ?? '', right.name ?? '');
  });
}
