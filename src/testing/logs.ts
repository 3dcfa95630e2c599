import type { PodStore } from './pod-store.ts';
import { chooseContainer, type LogLine, type StoredPod } from './pods.ts';
import { booleanParameter, integerParameter } from './query.ts';
import { badRequest } from './status.ts';
import type { Responder } from './stream-sink.ts';
import type { StreamTracker } from './streams.ts';

/**
 * Serves `pods/{name}/log` like the kubelet behind the apiserver: `text/plain`, with `container`,
 * `follow`, `tailLines`, `timestamps`, `sinceSeconds`, `sinceTime`, `limitBytes` and `previous`; a followed log
 * flushes each new line and ends when the pod terminates or is deleted.
 */
export function serveLogs(responder: Responder, query: URLSearchParams, store: PodStore, streams: StreamTracker, pod: StoredPod): void {
  const container = chooseContainer(pod, query.get('container'));
  const follow = booleanParameter(query, 'follow');
  const timestamps = booleanParameter(query, 'timestamps');
  const tailLines = integerParameter(query, 'tailLines');
  const sinceSeconds = integerParameter(query, 'sinceSeconds');
  const limitBytes = integerParameter(query, 'limitBytes');
  if (limitBytes === 0) throw badRequest('limitBytes: Invalid value: 0: must be greater than 0');
  if (sinceSeconds === 0) throw badRequest('sinceSeconds: Invalid value: 0: must be greater than 0');
  if (booleanParameter(query, 'previous')) {
    throw badRequest(`previous terminated container "${container}" in pod "${pod.name}" not found`);
  }
  if (pod.phase === 'Pending') {
    throw badRequest(`container "${container}" in pod "${pod.name}" is waiting to start: ContainerCreating`);
  }

  const sinceTime = query.get('sinceTime');
  if (sinceTime !== null && sinceSeconds !== undefined) throw badRequest('at most one of sinceTime or sinceSeconds may be specified');
  const sinceTimeMs = sinceTime === null ? 0 : Date.parse(sinceTime);
  if (Number.isNaN(sinceTimeMs) || (sinceTime !== null && !/^\d{4}-\d\d-\d\dT/.test(sinceTime))) {
    throw badRequest(`sinceTime: Invalid value: "${sinceTime ?? ''}": must be an RFC 3339 time`);
  }
  const since = sinceSeconds === undefined ? sinceTimeMs : Date.now() - sinceSeconds * 1000;
  let lines = store.logs(pod, container).filter((line) => line.time.getTime() >= since);
  if (tailLines !== undefined) lines = tailLines === 0 ? [] : lines.slice(-tailLines);

  const sink = responder.stream('text/plain');
  let remaining = limitBytes ?? Infinity;
  const format = (line: LogLine) => `${timestamps ? `${line.time.toISOString().replace('Z', '000000Z')} ` : ''}${line.text}\n`;
  /** Writes within `limitBytes`; returns false once the limit is reached. */
  const write = (line: LogLine): boolean => {
    const bytes = Buffer.from(format(line), 'utf8');
    const chunk = bytes.length > remaining ? bytes.subarray(0, remaining) : bytes;
    remaining -= chunk.length;
    if (chunk.length > 0) sink.write(chunk);
    return remaining > 0;
  };

  const complete = !lines.every(write);
  if (!follow || complete) {
    sink.end();
    return;
  }
  const stopFollowing = store.followLog(pod, container, (line) => {
    if (line === null || !write(line)) end();
  });
  const release = streams.open('log', () => end());
  function end(): void {
    stopFollowing();
    release();
    sink.end();
  }
  sink.onClose(end);
}
