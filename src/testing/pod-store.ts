import { normalizePod, type FakePod, type FakePodPatch, type LogLine, type StoredPod } from './pods.ts';

/** A change to a pod, as watch streams carry it. */
export interface PodEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly pod: StoredPod;
}

/** Events kept for watches that resume from a resourceVersion; older ones answer 410 Expired. */
const HISTORY_LIMIT = 1000;

type LogListener = (line: LogLine | null) => void;

/**
 * The fake cluster's pods, their logs and their change history. One global resourceVersion counter,
 * like etcd's revision, orders every change.
 */
export class PodStore {
  #resourceVersion = 1;
  readonly #pods = new Map<string, StoredPod>();
  readonly #logs = new Map<string, Map<string, LogLine[]>>();
  readonly #history: PodEvent[] = [];
  readonly #listeners = new Set<(event: PodEvent) => void>();
  readonly #bookmarkListeners = new Set<() => void>();
  readonly #logListeners = new Map<string, Set<LogListener>>();
  readonly #nodeName: string;

  constructor(nodeName: string) {
    this.#nodeName = nodeName;
  }

  get resourceVersion(): number {
    return this.#resourceVersion;
  }

  list(namespace?: string): StoredPod[] {
    const pods = [...this.#pods.values()].filter((pod) => namespace === undefined || pod.namespace === namespace);
    return pods.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  }

  get(namespace: string, name: string): StoredPod | undefined {
    return this.#pods.get(`${namespace}/${name}`);
  }

  /** Namespaces in use, always including `default`. */
  namespaces(): string[] {
    return [...new Set(['default', ...[...this.#pods.values()].map((pod) => pod.namespace)])].sort();
  }

  add(pod: FakePod): StoredPod {
    const stored = normalizePod(pod, undefined, { nodeName: this.#nodeName, resourceVersion: this.#resourceVersion + 1 });
    const key = `${stored.namespace}/${stored.name}`;
    if (this.#pods.has(key)) throw new Error(`pod ${key} already exists`);
    this.#pods.set(key, stored);
    this.#logs.set(
      key,
      new Map((pod.containers ?? [{ name: 'app' }]).map((c) => [c.name, (c.logs ?? []).flatMap(splitLines)])),
    );
    this.#emit({ type: 'ADDED', pod: stored });
    return stored;
  }

  update(namespace: string, name: string, patch: FakePodPatch): StoredPod {
    const previous = this.#require(namespace, name);
    const stored = normalizePod({ ...patch, name, namespace }, previous, {
      nodeName: this.#nodeName,
      resourceVersion: this.#resourceVersion + 1,
    });
    const key = `${namespace}/${name}`;
    this.#pods.set(key, stored);
    const logs = this.#logs.get(key) ?? new Map<string, LogLine[]>();
    for (const container of patch.containers ?? []) {
      if (container.logs) logs.set(container.name, container.logs.flatMap(splitLines));
    }
    this.#emit({ type: 'MODIFIED', pod: stored });
    // A terminated pod's containers no longer write: followers reach the end of the log.
    if (stored.phase === 'Succeeded' || stored.phase === 'Failed') this.#endLogs(key);
    return stored;
  }

  delete(namespace: string, name: string): StoredPod {
    const previous = this.#require(namespace, name);
    const key = `${namespace}/${name}`;
    this.#pods.delete(key);
    this.#logs.delete(key);
    this.#endLogs(key);
    const deleted = { ...previous, resourceVersion: this.#resourceVersion + 1 };
    this.#emit({ type: 'DELETED', pod: deleted });
    return deleted;
  }

  logs(pod: StoredPod, container: string): readonly LogLine[] {
    return this.#logs.get(`${pod.namespace}/${pod.name}`)?.get(container) ?? [];
  }

  appendLog(namespace: string, name: string, text: string, container?: string): void {
    const pod = this.#require(namespace, name);
    const containerName = container ?? pod.containers[0]?.name ?? '';
    if (!pod.containers.some((c) => c.name === containerName)) {
      throw new Error(`pod ${namespace}/${name} has no container ${JSON.stringify(containerName)}`);
    }
    const key = `${namespace}/${name}`;
    const byContainer = this.#logs.get(key) ?? new Map<string, LogLine[]>();
    this.#logs.set(key, byContainer);
    const lines = byContainer.get(containerName) ?? [];
    byContainer.set(containerName, lines);
    for (const line of splitLines(text)) {
      lines.push(line);
      for (const listener of this.#logListeners.get(`${key}/${containerName}`) ?? []) listener(line);
    }
  }

  /** Calls `listener` with each new line of a container's log, and with `null` when the log ends. */
  followLog(pod: StoredPod, container: string, listener: LogListener): () => void {
    const key = `${pod.namespace}/${pod.name}/${container}`;
    const listeners = this.#logListeners.get(key) ?? new Set();
    this.#logListeners.set(key, listeners);
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }

  /** Calls `listener` whenever a test asks for a bookmark ({@link PodStore.bookmark}). */
  onBookmark(listener: () => void): () => void {
    this.#bookmarkListeners.add(listener);
    return () => void this.#bookmarkListeners.delete(listener);
  }

  /** Asks watches that allow bookmarks to send one now (the apiserver sends them about every minute). */
  bookmark(): void {
    for (const listener of this.#bookmarkListeners) listener();
  }

  subscribe(listener: (event: PodEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Events after `resourceVersion`, or `undefined` when they are no longer kept (410 Expired). */
  eventsSince(resourceVersion: number): PodEvent[] | undefined {
    const oldest = this.#history[0]?.pod.resourceVersion ?? this.#resourceVersion + 1;
    if (resourceVersion < oldest - 1 && this.#history.length >= HISTORY_LIMIT) return undefined;
    return this.#history.filter((event) => event.pod.resourceVersion > resourceVersion);
  }

  #require(namespace: string, name: string): StoredPod {
    const pod = this.get(namespace, name);
    if (!pod) throw new Error(`pod ${namespace}/${name} does not exist`);
    return pod;
  }

  #emit(event: PodEvent): void {
    this.#resourceVersion = event.pod.resourceVersion;
    this.#history.push(event);
    if (this.#history.length > HISTORY_LIMIT) this.#history.shift();
    for (const listener of this.#listeners) listener(event);
  }

  #endLogs(podKey: string): void {
    for (const [key, listeners] of this.#logListeners) {
      if (!key.startsWith(`${podKey}/`)) continue;
      for (const listener of listeners) listener(null);
      this.#logListeners.delete(key);
    }
  }
}

function splitLines(text: string): LogLine[] {
  const time = new Date();
  return text.replace(/\n$/, '').split('\n').map((line) => ({ time, text: line }));
}
