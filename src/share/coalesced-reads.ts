import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ForwardObserver } from '../forward/observer.ts';
import type { PreparedRequest } from '../pipeline/prepare.ts';
import { readKey } from './request-key.ts';
import { createResponseTee, type ResponseTee } from './response-tee.ts';

interface InFlight {
  readonly key: string;
  readonly identity: string;
  readonly tee: ResponseTee;
}

/**
 * Identical concurrent reads of one identity share one upstream request, the proxy's own (made
 * with `Route.request`, so that the first client leaving does not cancel it for the others), its
 * response teed to every client. A read joins only a request still open to joiners: not one whose
 * body outgrew the tee's buffer, and never one sent before a write by the same identity completed.
 */
export function createCoalescedReads(options: { maxBufferBytes: number; observer: ForwardObserver }) {
  const inFlight = new Map<string, InFlight>();
  const byIdentity = new Map<string, Set<InFlight>>();

  function forget(entry: InFlight): void {
    if (inFlight.get(entry.key) === entry) inFlight.delete(entry.key);
    const set = byIdentity.get(entry.identity);
    set?.delete(entry);
    if (set?.size === 0) byIdentity.delete(entry.identity);
  }

  function start(prepared: PreparedRequest, key: string, identity: string): InFlight {
    const { exchange, route } = prepared;
    const controller = new AbortController();
    const entry: InFlight = {
      key,
      identity,
      tee: createResponseTee(options.maxBufferBytes, {
        closed: () => forget(entry),
        abandoned: () => controller.abort(new Error('every client went away')),
      }),
    };
    inFlight.set(key, entry);
    byIdentity.set(identity, (byIdentity.get(identity) ?? new Set()).add(entry));
    route
      .request({ method: exchange.method, path: exchange.path, headers: exchange.headers, timeoutMs: exchange.timeoutMs, signal: controller.signal })
      .then(
        (response: IncomingMessage) => {
          options.observer.response(exchange, response.statusCode ?? 502);
          entry.tee.start(response);
        },
        (error: unknown) => entry.tee.fail(error),
      );
    return entry;
  }

  return {
    /** Serves a sharable read (see `isSharableRead`) of `identity`, joining its twin in flight if it may. */
    serve(res: ServerResponse, prepared: PreparedRequest, identity: string): void {
      const { exchange } = prepared;
      const key = readKey(exchange, identity);
      const client = { res, fail: (error: unknown) => options.observer.failure(exchange, error, res) };
      if (inFlight.get(key)?.tee.join(client)) return;
      start(prepared, key, identity).tee.join(client);
    },
    /** A write of `identity` completed: reads sent before it may answer from before it, so nobody joins them any more. */
    writeCompleted(identity: string): void {
      for (const entry of [...(byIdentity.get(identity) ?? [])]) entry.tee.close();
    },
  };
}

export type CoalescedReads = ReturnType<typeof createCoalescedReads>;
