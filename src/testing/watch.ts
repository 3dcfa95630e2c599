import type { ServerResponse } from 'node:http';
import type { PodEvent, PodStore } from './pod-store.ts';
import { podObject } from './pods.ts';
import { integerParameter } from './query.ts';
import type { PodFilter } from './selectors.ts';
import { badRequest } from './status.ts';
import type { StreamTracker } from './streams.ts';
import { podTable, type IncludeObject } from './tables.ts';

export interface WatchOptions {
  readonly namespace: string | undefined;
  readonly filter: PodFilter;
  /** Send objects as single-row Tables (`kubectl get -w`). */
  readonly table: IncludeObject | undefined;
}

/**
 * Serves a pod watch as kube-apiserver does: chunked JSON lines, flushed one by one; initial ADDED
 * events when no resourceVersion (or "0") is given, otherwise the changes after it; a clean end
 * after `timeoutSeconds`.
 */
export function serveWatch(res: ServerResponse, query: URLSearchParams, store: PodStore, streams: StreamTracker, options: WatchOptions): void {
  const timeoutSeconds = integerParameter(query, 'timeoutSeconds');
  const resourceVersionText = query.get('resourceVersion') ?? '';
  if (resourceVersionText !== '' && !/^\d+$/.test(resourceVersionText)) {
    throw badRequest(`resourceVersion: Invalid value: "${resourceVersionText}": must be a non-negative integer`);
  }
  const resourceVersion = resourceVersionText === '' ? 0 : Number(resourceVersionText);

  const inScope = (event: PodEvent) =>
    (options.namespace === undefined || event.pod.namespace === options.namespace) && options.filter(event.pod);
  const write = (event: PodEvent) => {
    const object = options.table ? podTable([event.pod], options.table, event.pod.resourceVersion) : podObject(event.pod);
    res.write(`${JSON.stringify({ type: event.type, object })}\n`);
  };

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();

  let initial: PodEvent[];
  if (resourceVersion === 0) {
    initial = store.list(options.namespace).map((pod) => ({ type: 'ADDED', pod }));
  } else {
    const since = store.eventsSince(resourceVersion);
    if (since === undefined) {
      const expired = {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${resourceVersion} (${store.resourceVersion})`,
        reason: 'Expired',
        code: 410,
      };
      res.end(`${JSON.stringify({ type: 'ERROR', object: expired })}\n`);
      return;
    }
    initial = since;
  }
  for (const event of initial.filter(inScope)) write(event);

  const unsubscribe = store.subscribe((event) => {
    if (inScope(event)) write(event);
  });
  const timer = timeoutSeconds === undefined ? undefined : setTimeout(() => end(), timeoutSeconds * 1000);
  const release = streams.open('watch', () => end());
  function end(): void {
    unsubscribe();
    clearTimeout(timer);
    release();
    if (!res.writableEnded) res.end();
  }
  res.on('close', end);
}
