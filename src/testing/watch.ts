import type { PodEvent, PodStore } from './pod-store.ts';
import { podObject } from './pods.ts';
import { booleanParameter, integerParameter } from './query.ts';
import type { PodFilter } from './selectors.ts';
import { badRequest } from './status.ts';
import type { Responder } from './stream-sink.ts';
import type { StreamTracker } from './streams.ts';
import { namespaceObject, namespaceTable, podTable, type IncludeObject } from './tables.ts';

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

interface WatchStream {
  send(type: EventType, object: unknown): void;
  end(): void;
}

function resourceVersionParameter(query: URLSearchParams): number {
  const text = query.get('resourceVersion') ?? '';
  if (text !== '' && !/^\d+$/.test(text)) throw badRequest(`resourceVersion: Invalid value: "${text}": must be a non-negative integer`);
  return text === '' ? 0 : Number(text);
}

/**
 * Opens a watch stream as kube-apiserver does: one JSON event per line (or per WebSocket message),
 * each flushed as it is written, a clean end after `timeoutSeconds`; `stop` runs once when the
 * watch ends for any reason.
 */
function openWatch(responder: Responder, query: URLSearchParams, streams: StreamTracker, stop: () => void): WatchStream {
  const timeoutSeconds = integerParameter(query, 'timeoutSeconds');
  const sink = responder.stream('application/json');
  const timer = timeoutSeconds === undefined ? undefined : setTimeout(() => end(), timeoutSeconds * 1000);
  const release = streams.open('watch', () => end());
  let ended = false;
  function end(): void {
    if (ended) return;
    ended = true;
    stop();
    clearTimeout(timer);
    release();
    sink.end();
  }
  sink.onClose(end);
  return {
    send: (type, object) => {
      if (!ended) sink.write(`${JSON.stringify({ type, object })}\n`);
    },
    end,
  };
}

export interface PodWatchOptions {
  readonly namespace: string | undefined;
  readonly filter: PodFilter;
  /** Send objects as single-row Tables (`kubectl get -w`). */
  readonly table: IncludeObject | undefined;
}

/**
 * Serves a pod watch: initial ADDED events when no resourceVersion (or "0") is given or with
 * `sendInitialEvents`, otherwise the changes after it (an ERROR 410 Expired event when those are no
 * longer kept), then live changes. With `allowWatchBookmarks`, BOOKMARK events: one ending the
 * initial events when `sendInitialEvents` is set, and one per {@link PodStore.bookmark} call.
 */
export function servePodWatch(responder: Responder, query: URLSearchParams, store: PodStore, streams: StreamTracker, options: PodWatchOptions): void {
  const resourceVersion = resourceVersionParameter(query);
  const bookmarks = booleanParameter(query, 'allowWatchBookmarks');
  const sendInitialEvents = booleanParameter(query, 'sendInitialEvents');
  const inScope = (event: PodEvent) =>
    (options.namespace === undefined || event.pod.namespace === options.namespace) && options.filter(event.pod);
  const initial: PodEvent[] | undefined =
    resourceVersion === 0 || sendInitialEvents
      ? store.list(options.namespace).map((pod) => ({ type: 'ADDED', pod }))
      : store.eventsSince(resourceVersion);

  let unsubscribe: () => void = () => undefined;
  const watch = openWatch(responder, query, streams, () => unsubscribe());
  const send = (event: PodEvent) =>
    watch.send(event.type, options.table ? podTable([event.pod], options.table, event.pod.resourceVersion) : podObject(event.pod));

  if (initial === undefined) {
    watch.send('ERROR', {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `too old resource version: ${resourceVersion} (${store.resourceVersion})`,
      reason: 'Expired',
      code: 410,
    });
    watch.end();
    return;
  }
  initial.filter(inScope).forEach(send);
  // A bookmark carries only the resourceVersion; the one ending the initial events says so.
  const bookmark = (initialEventsEnd: boolean) =>
    watch.send('BOOKMARK', {
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: {
        resourceVersion: String(store.resourceVersion),
        creationTimestamp: null,
        ...(initialEventsEnd ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}),
      },
    });
  if (bookmarks && sendInitialEvents) bookmark(true);
  const unsubscribeEvents = store.subscribe((event) => {
    if (inScope(event)) send(event);
  });
  const unsubscribeBookmarks = bookmarks ? store.onBookmark(() => bookmark(false)) : () => undefined;
  unsubscribe = () => {
    unsubscribeEvents();
    unsubscribeBookmarks();
  };
}

/**
 * Serves a namespace watch. Namespaces are derived from pods, so events follow the pods: ADDED when
 * a pod brings a new namespace, DELETED when the last pod of a namespace (other than `default`) goes.
 */
export function serveNamespaceWatch(responder: Responder, query: URLSearchParams, store: PodStore, streams: StreamTracker, options: { created: Date; table: IncludeObject | undefined }): void {
  const resourceVersion = resourceVersionParameter(query);
  let unsubscribe: () => void = () => undefined;
  const watch = openWatch(responder, query, streams, () => unsubscribe());
  const send = (type: EventType, name: string) =>
    watch.send(type, options.table ? namespaceTable([name], options.created, options.table, store.resourceVersion) : namespaceObject(name, options.created));
  let known = new Set(store.namespaces());
  if (resourceVersion === 0) known.forEach((name) => send('ADDED', name));
  unsubscribe = store.subscribe(() => {
    const current = new Set(store.namespaces());
    for (const name of current) if (!known.has(name)) send('ADDED', name);
    for (const name of known) if (!current.has(name)) send('DELETED', name);
    known = current;
  });
}
