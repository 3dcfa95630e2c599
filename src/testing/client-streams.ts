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

/** Past this many queued characters the response is paused until the test reads on. */
const HIGH_WATER_CHARS = 1024 * 1024;

/**
 * The response's text, read eagerly into a bounded queue: what arrived before the connection
 * dropped (a server closing, say) is still delivered. `discard()` drops what is queued.
 */
function textChunks(res: IncomingMessage): { chunks: AsyncGenerator<string>; discard: () => void } {
  const decoder = new StringDecoder('utf8');
  const queue: string[] = [];
  let queued = 0;
  let done = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const push = (text: string) => {
    if (text === '') return;
    queue.push(text);
    queued += text.length;
    if (queued > HIGH_WATER_CHARS) res.pause();
  };
  res.on('data', (chunk: Buffer) => {
    push(decoder.write(chunk));
    notify();
  });
  // A connection gone (closed by us or by the server) ends the stream like its end does.
  const finish = () => {
    if (done) return;
    done = true;
    push(decoder.end());
    notify();
  };
  res.on('end', finish);
  res.on('close', finish);
  res.on('error', finish);
  async function* chunks(): AsyncGenerator<string> {
    for (;;) {
      const next = queue.shift();
      if (next !== undefined) {
        queued -= next.length;
        if (res.isPaused() && queued <= HIGH_WATER_CHARS / 2) res.resume();
        yield next;
      } else if (done) {
        return;
      } else {
        await new Promise<void>((resolve) => (wake = resolve));
      }
    }
  }
  return {
    chunks: chunks(),
    discard: () => {
      queue.length = 0;
      queued = 0;
    },
  };
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

async function* watchEvents<T>(chunks: AsyncIterable<string>): AsyncGenerator<WatchEvent<T>> {
  for await (const line of lines(chunks)) yield parseWatchEvent<T>(line);
}

function clientStream<T>(req: ClientRequest, discard: () => void, items: AsyncGenerator<T>): ClientStream<T> {
  const close = () => {
    discard();
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
  const { chunks, discard } = textChunks(res);
  return clientStream(req, discard, watchEvents<T>(chunks));
}

/** A followed log as a stream of text chunks, as they arrive. */
export function logStream(req: ClientRequest, res: IncomingMessage): ClientStream<string> {
  const { chunks, discard } = textChunks(res);
  return clientStream(req, discard, chunks);
}
