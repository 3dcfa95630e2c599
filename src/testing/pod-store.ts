import { normalizePod, podObject, type FakePod, type FakePodPatch, type LogLine, type StoredPod } from './pods.ts';
import type { ObjectStore, StoreEvent } from './store/object-store.ts';
import { isObject, metadataOf, mutableCopy } from './store/objects.ts';
import { podView, POD_TYPE } from './store/pod-type.ts';
import { NAMESPACE_TYPE } from './store/builtin-types.ts';
import { createObject, type WriteContext } from './store/writes.ts';
import { sameResource } from './store/resource-type.ts';

type LogListener = (line: LogLine | null) => void;

const SYSTEM_WRITE = { manager: 'fake-cluster', system: true } as const;

/**
 * The fake cluster's pods as the kit's helpers describe them ({@link FakePod}), kept in the object
 * store beside those created through the API, and the containers' logs. Namespaces that the
 * helpers had to create exist only as long as an object uses them.
 */
export class PodStore {
  readonly #objects: ObjectStore;
  readonly #context: WriteContext;
  readonly #logs = new Map<string, Map<string, LogLine[]>>();
  readonly #logListeners = new Map<string, Set<LogListener>>();
  readonly #implicitNamespaces = new Set<string>();

  constructor(context: WriteContext) {
    this.#context = context;
    this.#objects = context.store;
    this.#objects.subscribe((event) => this.#onChange(event));
  }

  get resourceVersion(): number {
    return this.#objects.resourceVersion;
  }

  list(namespace?: string): StoredPod[] {
    return this.#objects.list(POD_TYPE, namespace).map(podView);
  }

  get(namespace: string, name: string): StoredPod | undefined {
    const pod = this.#objects.get(POD_TYPE, namespace, name);
    return pod && podView(pod);
  }

  /** Creates a namespace if it does not exist; `implicit` ones go when their last object goes. */
  ensureNamespace(name: string, implicit: boolean): void {
    if (this.#objects.get(NAMESPACE_TYPE, '', name)) return;
    createObject(this.#context, NAMESPACE_TYPE, '', { metadata: { name } }, SYSTEM_WRITE);
    if (implicit) this.#implicitNamespaces.add(name);
  }

  add(pod: FakePod): StoredPod {
    const stored = normalizePod(pod, undefined, { nodeName: this.#context.nodeName, resourceVersion: 0 });
    const key = `${stored.namespace}/${stored.name}`;
    if (this.#objects.get(POD_TYPE, stored.namespace, stored.name)) throw new Error(`pod ${key} already exists`);
    this.ensureNamespace(stored.namespace, true);
    const object = podObject(stored);
    delete (object.metadata as Record<string, unknown>).resourceVersion;
    const created = createObject(this.#context, POD_TYPE, stored.namespace, object, SYSTEM_WRITE);
    this.#logs.set(key, new Map((pod.containers ?? [{ name: 'app' }]).map((c) => [c.name, (c.logs ?? []).flatMap(splitLines)])));
    return podView(created);
  }

  /** Changes what the helpers describe (labels, phase, containers, ...), keeping the rest of a pod created through the API. */
  update(namespace: string, name: string, patch: FakePodPatch): StoredPod {
    const current = this.#objects.get(POD_TYPE, namespace, name);
    if (!current) throw new Error(`pod ${namespace}/${name} does not exist`);
    const next = normalizePod({ ...patch, name, namespace }, podView(current), { nodeName: this.#context.nodeName, resourceVersion: 0 });
    const rendered = podObject(next) as { metadata: Record<string, unknown>; spec: Record<string, unknown>; status: unknown };
    const draft = mutableCopy(current);
    for (const field of ['labels', 'annotations'] as const) {
      if (rendered.metadata[field] === undefined) delete draft.metadata[field];
      else draft.metadata[field] = rendered.metadata[field];
    }
    const spec = isObject(draft.spec) ? draft.spec : {};
    const previousContainers = Array.isArray(spec.containers) ? spec.containers.filter(isObject) : [];
    spec.containers = (rendered.spec.containers as Record<string, unknown>[]).map((container) => {
      const previous = previousContainers.find((c) => c.name === container.name);
      return previous ? { ...previous, image: container.image } : container;
    });
    spec.nodeName = rendered.spec.nodeName;
    draft.spec = spec;
    draft.status = rendered.status;
    const key = `${namespace}/${name}`;
    const logs = this.#logs.get(key) ?? new Map<string, LogLine[]>();
    this.#logs.set(key, logs);
    for (const container of patch.containers ?? []) {
      if (container.logs) logs.set(container.name, container.logs.flatMap(splitLines));
    }
    return podView(this.#objects.update(POD_TYPE, draft));
  }

  delete(namespace: string, name: string): StoredPod {
    if (!this.#objects.get(POD_TYPE, namespace, name)) throw new Error(`pod ${namespace}/${name} does not exist`);
    return podView(this.#objects.delete(POD_TYPE, namespace, name));
  }

  logs(pod: StoredPod, container: string): readonly LogLine[] {
    return this.#logs.get(`${pod.namespace}/${pod.name}`)?.get(container) ?? [];
  }

  appendLog(namespace: string, name: string, text: string, container?: string): void {
    const pod = this.get(namespace, name);
    if (!pod) throw new Error(`pod ${namespace}/${name} does not exist`);
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

  /** Pods deleted or terminated by any means (API, helpers, namespace deletion) end their logs. */
  /** Calls `listener` for every change of a pod, however it was made (helpers or the API). */
  subscribe(listener: (event: { type: StoreEvent['type']; pod: StoredPod }) => void): () => void {
    return this.#objects.subscribe((event) => {
      if (sameResource(event.key, POD_TYPE)) listener({ type: event.type, pod: podView(event.object) });
    });
  }

  #onChange(event: StoreEvent): void {
    const { namespace = '', name = '' } = metadataOf(event.object);
    if (sameResource(event.key, NAMESPACE_TYPE) && event.type === 'DELETED') this.#implicitNamespaces.delete(name);
    // A namespace only the helpers made goes with its last object, as the kit always did.
    if (event.type === 'DELETED' && this.#implicitNamespaces.has(namespace) && !this.#objects.usedNamespaces().has(namespace)) {
      this.#implicitNamespaces.delete(namespace);
      this.#objects.delete(NAMESPACE_TYPE, '', namespace);
    }
    if (!sameResource(event.key, POD_TYPE)) return;
    const key = `${namespace}/${name}`;
    if (event.type === 'DELETED') {
      this.#logs.delete(key);
      this.#endLogs(key);
      return;
    }
    // A terminated pod's containers no longer write: followers reach the end of the log.
    const { phase } = podView(event.object);
    if (phase === 'Succeeded' || phase === 'Failed') this.#endLogs(key);
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
