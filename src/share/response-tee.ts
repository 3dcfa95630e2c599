import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { clientResponseHeaders } from '../forward/headers.ts';

/** One client of a teed response; `fail` answers it when the cluster could not be asked. */
export interface TeeClient {
  readonly res: ServerResponse;
  readonly fail: (error: unknown) => void;
}

interface Subscriber extends TeeClient {
  /** Index (counted from the start of the body) of the next chunk to write. */
  next: number;
  blocked: boolean;
}

/** What the owner of a tee learns. */
export interface TeeEvents {
  /** No client may join any more: the body ended, failed, or outgrew the buffer. */
  closed(): void;
  /** Every client left before the body ended: cancel the upstream request. */
  abandoned(): void;
}

/**
 * One upstream response written to several clients. The body is read only as fast as the slowest
 * client takes it (backpressure); chunks are kept, up to `maxBufferBytes`, so that a client joining
 * late gets the whole body from its first byte. Past that bound the tee closes to joiners and
 * keeps only what some client has yet to write. A client leaving never disturbs the others.
 */
export function createResponseTee(maxBufferBytes: number, events: TeeEvents) {
  const subscribers = new Set<Subscriber>();
  let head: { status: number; message: string | undefined; headers: IncomingHttpHeaders } | undefined;
  let upstream: IncomingMessage | undefined;
  const chunks: Buffer[] = [];
  /** Index of chunks[0] in the body: chunks every client wrote are dropped once the tee is closed. */
  let base = 0;
  let bytes = 0;
  let open = true;
  let ended = false;
  let failed = false;

  function close(): void {
    if (!open) return;
    open = false;
    events.closed();
  }

  function leave(subscriber: Subscriber): void {
    if (!subscribers.delete(subscriber)) return;
    if (subscribers.size === 0 && !ended) {
      close();
      events.abandoned();
    } else flow();
  }

  /** Reads on only when every client wrote everything; drops what all wrote once nobody can join. */
  function flow(): void {
    if (!upstream || ended || failed) return;
    let lowest = base + chunks.length;
    let blocked = false;
    for (const s of subscribers) {
      lowest = Math.min(lowest, s.next);
      blocked ||= s.blocked;
    }
    if (!open && lowest > base) {
      chunks.splice(0, lowest - base);
      base = lowest;
    }
    if (blocked || lowest < base + chunks.length) upstream.pause();
    else upstream.resume();
  }

  /** The body broke off: every client's response is cut. */
  function cut(): void {
    if (ended || failed) return;
    failed = true;
    close();
    for (const s of [...subscribers]) {
      subscribers.delete(s);
      s.res.destroy();
    }
  }

  function pump(subscriber: Subscriber): void {
    const { res } = subscriber;
    while (!subscriber.blocked && subscriber.next < base + chunks.length) {
      const chunk = chunks[subscriber.next - base]!;
      subscriber.next++;
      if (!res.write(chunk)) {
        subscriber.blocked = true;
        res.once('drain', () => {
          subscriber.blocked = false;
          pump(subscriber);
          flow();
        });
      }
    }
    if (ended && !subscriber.blocked && subscriber.next === base + chunks.length) {
      subscribers.delete(subscriber);
      res.end();
    }
  }

  function writeHead(subscriber: Subscriber): void {
    if (!head || subscriber.res.headersSent) return;
    subscriber.res.writeHead(head.status, head.message, clientResponseHeaders(head.headers) as never);
    // The headers go out now, as they would unshared, not with the first chunk of a slow body.
    subscriber.res.flushHeaders();
  }

  return {
    /** Adds a client; `false` when the tee is closed to joiners (the client needs a request of its own). */
    join(client: TeeClient): boolean {
      if (!open) return false;
      if (client.res.destroyed) return true;
      const subscriber: Subscriber = { ...client, next: 0, blocked: false };
      subscribers.add(subscriber);
      client.res.once('close', () => leave(subscriber));
      if (head) {
        writeHead(subscriber);
        pump(subscriber);
        flow();
      }
      return true;
    },
    /** The cluster answered: its headers go to every client, then its body. */
    start(response: IncomingMessage): void {
      upstream = response;
      head = { status: response.statusCode ?? 502, message: response.statusMessage, headers: response.headers };
      for (const s of subscribers) writeHead(s);
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        bytes += chunk.length;
        if (bytes > maxBufferBytes) close();
        for (const s of [...subscribers]) pump(s);
        flow();
      });
      response.once('end', () => {
        ended = true;
        close();
        for (const s of [...subscribers]) pump(s);
      });
      // A body cut short is never passed off as complete: every client's response is cut too.
      response.once('error', cut);
      response.once('aborted', cut);
      response.once('close', () => {
        if (!ended) cut();
      });
    },
    /** The cluster could not be asked: every client is answered with the error. */
    fail(error: unknown): void {
      failed = true;
      close();
      for (const s of [...subscribers]) {
        subscribers.delete(s);
        s.fail(error);
      }
    },
    /** Lets nobody else join (a write by the same identity completed). */
    close,
  };
}

export type ResponseTee = ReturnType<typeof createResponseTee>;
