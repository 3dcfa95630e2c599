import { booleanParameter, integerParameter } from './query.ts';
import type { ObjectFilter } from './selectors.ts';
import { badRequest, invalid, StatusError, type FieldError } from './status.ts';
import type { ObjectStore, StoreEvent } from './store/object-store.ts';
import type { KubeObject } from './store/objects.ts';
import { apiVersionOf, sameResource, type ResourceType } from './store/resource-type.ts';
import { presentAs } from './store/resources.ts';
import type { Responder } from './stream-sink.ts';
import type { StreamTracker } from './streams.ts';
import { objectTable, type IncludeObject } from './tables.ts';

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** How long a request for a resourceVersion the fake has not reached yet waits, as kube-apiserver's watch cache. */
const TOO_LARGE_RESOURCE_VERSION_WAIT_MS = 3000;

/** What one list or watch covers. */
export interface WatchTarget {
  readonly type: ResourceType;
  /** `undefined`: every namespace (or a cluster-scoped kind). */
  readonly namespace: string | undefined;
  readonly filter: ObjectFilter;
  /** Send objects as single-row Tables (`kubectl get -w`). */
  readonly table: IncludeObject | undefined;
}

interface WatchStream {
  send(type: EventType, object: unknown): void;
  end(): void;
}

/** `resourceVersion`: `''` (unset), `'0'` (any) or a decimal resourceVersion. */
export function resourceVersionParameter(query: URLSearchParams): string {
  const text = query.get('resourceVersion') ?? '';
  if (text !== '' && !/^\d{1,15}$/.test(text)) throw badRequest(`resourceVersion: Invalid value: "${text}": must be a non-negative integer`);
  return text;
}

/** 504 for a resourceVersion newer than any the fake has written, after waiting for it a while. */
export async function awaitResourceVersion(store: ObjectStore, resourceVersion: number): Promise<void> {
  if (await store.waitForRevision(resourceVersion, TOO_LARGE_RESOURCE_VERSION_WAIT_MS)) return;
  throw new StatusError('Timeout', `Too large resource version: ${resourceVersion}, current: ${store.resourceVersion}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
}

/** The ERROR event's Status for a resourceVersion older than the kept window. */
function expiredStatus(resourceVersion: string, current: number): Record<string, unknown> {
  return new StatusError('Expired', `too old resource version: ${resourceVersion} (${current})`).toStatus();
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

/** The watch-list parameters, validated with the apiserver's rules (422 Invalid ListOptions otherwise). */
function startingRules(query: URLSearchParams): { resourceVersion: string; initialEvents: boolean; bookmarks: boolean; initialEventsEnd: boolean } {
  const resourceVersion = resourceVersionParameter(query);
  const bookmarks = booleanParameter(query, 'allowWatchBookmarks');
  const sendInitialEvents = query.has('sendInitialEvents') ? booleanParameter(query, 'sendInitialEvents') : undefined;
  const match = query.get('resourceVersionMatch') ?? '';
  const errors: FieldError[] = [];
  if (match !== '' && match !== 'NotOlderThan' && match !== 'Exact') {
    errors.push({ field: 'resourceVersionMatch', type: 'FieldValueNotSupported', message: `Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"` });
  } else if (sendInitialEvents === undefined && match !== '') {
    errors.push({ field: 'resourceVersionMatch', type: 'FieldValueForbidden', message: 'Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided' });
  } else if (sendInitialEvents !== undefined && match !== 'NotOlderThan') {
    errors.push({ field: 'resourceVersionMatch', type: 'FieldValueForbidden', message: `Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan` });
  }
  if (sendInitialEvents === true && !bookmarks) {
    errors.push({ field: 'allowWatchBookmarks', type: 'FieldValueForbidden', message: 'Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true' });
  }
  if (errors.length > 0) throw invalid('ListOptions', '', errors, 'meta.k8s.io');
  return {
    resourceVersion,
    // Unset or "0" without sendInitialEvents: the current objects as synthetic ADDED events first.
    initialEvents: sendInitialEvents ?? (resourceVersion === '' || resourceVersion === '0'),
    bookmarks,
    initialEventsEnd: sendInitialEvents === true,
  };
}

/** A change as one watch sees it: selectors turn objects leaving the selection into DELETED, joining it into ADDED. */
function eventFor(target: WatchTarget, event: StoreEvent): { type: EventType; object: KubeObject } | undefined {
  if (!sameResource(event.key, target.type)) return undefined;
  const inScope = (object: KubeObject | undefined) =>
    object !== undefined && (target.namespace === undefined || (object.metadata as { namespace?: string }).namespace === target.namespace) && target.filter(object);
  const was = inScope(event.previous);
  const is = event.type !== 'DELETED' && inScope(event.object);
  if (was && is) return { type: 'MODIFIED', object: event.object };
  if (is) return { type: 'ADDED', object: event.object };
  if (was) return { type: 'DELETED', object: event.object };
  return undefined;
}

/**
 * Serves a watch with kube-apiserver's semantics: without a resourceVersion (or "0"), or with
 * `sendInitialEvents=true`, the current objects as ADDED events first; from a resourceVersion, the
 * changes after it, or an ERROR event with a 410 Expired Status when they were compacted away; a
 * resourceVersion the fake has not reached is waited for (then 504). With `allowWatchBookmarks`,
 * BOOKMARK events: the one ending the initial events with `sendInitialEvents`, and one per
 * {@link ObjectStore.bookmark} call. Changes are then streamed as they are written.
 */
export async function serveWatch(responder: Responder, query: URLSearchParams, store: ObjectStore, streams: StreamTracker, target: WatchTarget): Promise<void> {
  const rules = startingRules(query);
  const numeric = rules.resourceVersion === '' ? 0 : Number(rules.resourceVersion);
  if (numeric > store.resourceVersion) await awaitResourceVersion(store, numeric);
  // From here on everything runs synchronously, so no write can fall between the start and the subscription.
  const history = rules.initialEvents || numeric === 0 ? [] : store.eventsSince(numeric);
  let unsubscribe: () => void = () => undefined;
  const watch = openWatch(responder, query, streams, () => unsubscribe());
  const send = (type: EventType, object: KubeObject) => {
    const served = presentAs(target.type, object);
    const resourceVersion = String((object.metadata as { resourceVersion?: string }).resourceVersion ?? '');
    watch.send(type, target.table ? objectTable(target.type, [served], target.table, resourceVersion) : served);
  };
  if (history === undefined) {
    watch.send('ERROR', expiredStatus(rules.resourceVersion, store.resourceVersion));
    watch.end();
    return;
  }
  if (rules.initialEvents) {
    for (const object of store.list(target.type, target.namespace)) if (target.filter(object)) send('ADDED', object);
  }
  for (const event of history) {
    const seen = eventFor(target, event);
    if (seen) send(seen.type, seen.object);
  }
  // A bookmark carries only the resourceVersion; the one ending the initial events says so.
  const bookmark = (initialEventsEnd: boolean) =>
    watch.send('BOOKMARK', {
      kind: target.type.kind,
      apiVersion: apiVersionOf(target.type),
      metadata: {
        resourceVersion: String(store.resourceVersion),
        creationTimestamp: null,
        ...(initialEventsEnd ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}),
      },
    });
  if (rules.bookmarks && rules.initialEventsEnd) bookmark(true);
  const unsubscribeEvents = store.subscribe((event) => {
    const seen = eventFor(target, event);
    if (seen) send(seen.type, seen.object);
  });
  const unsubscribeBookmarks = rules.bookmarks ? store.onBookmark(() => bookmark(false)) : () => undefined;
  unsubscribe = () => {
    unsubscribeEvents();
    unsubscribeBookmarks();
  };
}
