import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { PodStore } from './pod-store.ts';
import type { StoredPod } from './pods.ts';
import type { PortTargets } from './port-targets.ts';
import { SpdyConnection, type SpdyStream } from './spdy/connection.ts';
import type { SpdyHeaders } from './spdy/header-block.ts';
import type { StatusError } from './status.ts';
import { badRequest, notFound } from './status.ts';

/** The port-forward protocol over SPDY, by `X-Stream-Protocol-Version`. */
export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** kubectl >= 1.31: SPDY frames inside WebSocket binary messages. */
export const TUNNEL_PROTOCOL = `SPDY/3.1+${PORT_FORWARD_PROTOCOL}`;

/** The kubelet's patience for the second stream of a pair. */
const STREAM_PAIR_TIMEOUT_MS = 30_000;

export const PORT_FORWARD_PATH = /^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+\/portforward$/;

/** The pod a port-forward request addresses, checked as the apiserver and kubelet check it. */
export function parsePortForwardRequest(store: PodStore, req: IncomingMessage): StoredPod {
  const { pathname } = new URL(req.url ?? '/', 'https://fake.invalid');
  let segments: string[];
  try {
    segments = pathname.split('/').filter((segment) => segment !== '').map(decodeURIComponent);
  } catch {
    throw badRequest(`malformed path: ${pathname}`);
  }
  const [, , , namespace = '', , name = ''] = segments;
  const pod = store.get(namespace, name);
  if (!pod) throw notFound('pods', name);
  if (pod.phase !== 'Running') throw badRequest(`unable to forward port because pod is not running. Current status=${pod.phase}`);
  return pod;
}

/** A port number as the kubelet reads one (`strconv.ParseUint(s, 10, 16)`, then > 0); an error message otherwise. */
export function parsePort(text: string): number | string {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) return `unable to parse "${text}" as a port`;
  const port = Number(text);
  return port < 1 ? `port "${text}" must be > 0` : port;
}

/** The message the kubelet writes on a pair's error stream when the pod side fails. */
function forwardingError(pod: StoredPod, port: number, error: unknown): string {
  return `error forwarding port ${port} to pod ${pod.name}, uid ${pod.uid}: ${error instanceof Error ? error.message : String(error)}`;
}

/**
 * Joins a client stream to a new connection to the pod's port, both ways, with each side's
 * backpressure; `onError` gets the message to report when the pod side cannot be reached or fails.
 * Resolves when both directions are over.
 */
export function forwardToPort(pod: StoredPod, targets: PortTargets, port: number, client: Duplex, onError: (message: string) => void): Promise<void> {
  let target: Duplex;
  try {
    target = targets.connect(port);
  } catch (error) {
    onError(forwardingError(pod, port, error));
    client.end();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    target.on('error', (error) => onError(forwardingError(pod, port, error)));
    client.on('error', () => target.destroy());
    client.pipe(target);
    target.pipe(client);
    target.once('close', () => resolve());
    client.once('close', () => target.destroy());
  });
}

interface StreamPair {
  data?: SpdyStream;
  error?: SpdyStream;
  readonly timer: NodeJS.Timeout;
}

function validStream(headers: SpdyHeaders): boolean {
  const type = headers.get('streamtype')?.[0];
  return typeof parsePort(headers.get('port')?.[0] ?? '') === 'number' && (type === 'data' || type === 'error');
}

/**
 * Serves port-forward over a SPDY connection (an upgraded socket or a WebSocket tunnel): the client
 * opens an error and a data stream per forwarded connection, with the same `requestID` and a `port`
 * header; streams with a bad port or type are reset, as the kubelet resets them.
 */
export function serveSpdyPortForward(transport: Duplex, head: Buffer, pod: StoredPod, targets: () => PortTargets): { readonly done: Promise<void> } {
  const pairs = new Map<string, StreamPair>();
  let gone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (gone = resolve));

  function requestId(stream: SpdyStream): string {
    // Clients older than request ids send a pair as consecutive stream ids, the error stream first.
    return stream.header('requestid') ?? String(stream.header('streamtype') === 'error' ? stream.id : stream.id - 2);
  }

  function pairUp(stream: SpdyStream): void {
    const id = requestId(stream);
    let pair = pairs.get(id);
    if (!pair) {
      const timer = setTimeout(() => {
        pair?.error?.end(`timed out waiting for the data stream of request ${id}`);
        pair?.data?.destroy();
        pairs.delete(id);
      }, STREAM_PAIR_TIMEOUT_MS);
      timer.unref();
      pair = { timer };
      pairs.set(id, pair);
    }
    const type = stream.header('streamtype') === 'data' ? 'data' : 'error';
    if (pair[type]) {
      stream.end(`error processing stream for request ${id}: ${type} stream already assigned`);
      return;
    }
    pair[type] = stream;
    const { data, error } = pair;
    if (!data || !error) return;
    clearTimeout(pair.timer);
    pairs.delete(id);
    error.resume();
    const port = parsePort(data.header('port') ?? '') as number;
    void forwardToPort(pod, targets(), port, data, (message) => {
      if (error.writable) error.write(message);
    }).then(() => error.end());
  }

  new SpdyConnection(transport, head, {
    accept: validStream,
    onStream: pairUp,
    onClose: () => {
      for (const pair of pairs.values()) clearTimeout(pair.timer);
      gone();
    },
  });
  return { done };
}

/** A refused upgrade to port-forward for a subprotocol it does not speak. */
export function unsupportedProtocols(offered: readonly string[], supported: readonly string[]): StatusError {
  return badRequest(`requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${supported.join(' ')}]`);
}
