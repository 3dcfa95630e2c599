import type { ClientRequest, IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';

/**
 * A long-lived answer of {@link testClient} (a watch, a followed log), read with `for await`.
 * Breaking out of the loop, `close()` or disposal (`await using`) ends the request; the iteration
 * also ends when the server ends the stream or goes away.
 */
export interface ClientStream<T> extends AsyncIterableIterator<T>, AsyncDisposable {
  /** Ends the request; an iteration in progress then finishes. Closing twice has no effect. */
  close(): void;
}

/** The type of a watch event; `ERROR` carries a Status (e.g. 410 Expired). */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** One event of a watch: `{ type, object }`, as the API server sends it. */
export interface WatchEvent<T = KubeObject> {
  readonly type: WatchEventType;
  readonly object: T;
}

/** An object of the Kubernetes API, loosely typed so that tests can read any field. */
export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly [key: string]: unknown;
  };
  // Tests read status.phase, spec.containers and the like without casts.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly [key: string]: any;
}

/** Bounds one watch event (a line), so that a server that never sends a newline cannot fill memory. */
const MAX_LINE_CHARS = 16 * 1024 * 1024;

async function* textChunks(res: IncomingMessage): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  try {
    for await (const chunk of res) {
      const text = decoder.write(chunk as Buffer);
      if (text !== '') yield text;
    }
  } catch {
    // The connection went away (closed by us or by the server): the stream is over.
    return;
  }
  const rest = decoder.end();
  if (rest !== '') yield rest;
}

async function* lines(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  let buffered = '';
  for await (const chunk of chunks) {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim() !== '') yield line;
    }
    if (buffered.length > MAX_LINE_CHARS) throw new Error(`watch: an event is longer than ${MAX_LINE_CHARS} characters without a newline`);
  }
  if (buffered.trim() !== '') yield buffered;
}

/** Parses one line of a watch stream; exported for its malformed-input tests. */
export function parseWatchEvent<T>(line: string): WatchEvent<T> {
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch {
    throw new Error(`watch: the server sent a line that is not JSON: ${line.slice(0, 200)}`);
  }
  const { type, object } = (event ?? {}) as { type?: unknown; object?: unknown };
  if (typeof type !== 'string' || typeof object !== 'object' || object === null) {
    throw new Error(`watch: the server sent a line that is not a { type, object } event: ${line.slice(0, 200)}`);
  }
  return { type: type as WatchEventType, object: object as T };
}

async function* watchEvents<T>(res: IncomingMessage): AsyncGenerator<WatchEvent<T>> {
  for await (const line of lines(textChunks(res))) yield parseWatchEvent<T>(line);
}

function clientStream<T>(req: ClientRequest, items: AsyncGenerator<T>): ClientStream<T> {
  const close = () => {
    if (!req.destroyed) req.destroy();
  };
  const end = async (): Promise<IteratorResult<T>> => {
    close();
    return items.return(undefined);
  };
  return {
    next: () => items.next(),
    return: end,
    [Symbol.asyncIterator]() {
      return this;
    },
    close,
    [Symbol.asyncDispose]: async () => void (await end()),
  };
}

/** A watch answer as a stream of `{ type, object }` events. */
export function watchStream<T>(req: ClientRequest, res: IncomingMessage): ClientStream<WatchEvent<T>> {
  return clientStream(req, watchEvents<T>(res));
}

/** A followed log as a stream of text chunks, as they arrive. */
export function logStream(req: ClientRequest, res: IncomingMessage): ClientStream<string> {
  return clientStream(req, textChunks(res));
}
