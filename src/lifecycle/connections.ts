import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { CloseReason } from '../hooks.ts';
import type { Exchange } from '../pipeline/exchange.ts';
import { lifetimeDelay } from './credential-lifetime.ts';


/**
 * `'stream'`: a watch or a followed log, which a client resumes elsewhere (ended spread over a
 * drain's window); `'session'`: exec, attach, port-forward or a pod proxy, which dies with its
 * connection (closed at the end of the grace).
 */
export type OpenKind = 'stream' | 'session';

/** A connection the proxy may have to end, and how. */
export interface OpenConnection {
  readonly exchange: Exchange;
  readonly kind: OpenKind;
  /** Ends it: cleanly for an HTTP stream (the chunked terminator), by closing the socket for an upgrade. */
  readonly end: () => void;
}

type Key = ServerResponse | Duplex;

/** Whether an upgrade is a watch or a followed log (over WebSocket) rather than an interactive session. */
export function kindOfUpgrade(exchange: Exchange): OpenKind {
  return exchange.request.verb === 'watch' || exchange.request.subresource === 'log' ? 'stream' : 'session';
}

/**
 * Every request the proxy is answering and every long-lived connection it holds, with the reason
 * it was ended for when the proxy ended it: what a drain waits for, and what hooks are told at each
 * close. Connections whose cluster binds them to their credential are ended when it expires.
 */
export function createConnections(now: () => number) {
  const requests = new Set<ServerResponse>();
  const open = new Map<Key, OpenConnection>();
  const reasons = new WeakMap<Key, CloseReason>();
  const lifetimes = new Map<Key, NodeJS.Timeout>();
  let idleWaiters: (() => void)[] = [];
  let openListener: ((key: Key, connection: OpenConnection) => void) | undefined;

  function settle(): void {
    if (requests.size > 0 || open.size > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const wake of waiters) wake();
  }

  function end(key: Key, reason: CloseReason): void {
    const connection = open.get(key);
    if (!connection || reasons.has(key)) return;
    reasons.set(key, reason);
    connection.end();
  }

  return {
    /** An HTTP request under the mount path began; it counts until its response closes. */
    request: (res: ServerResponse): void => {
      requests.add(res);
      res.once('close', () => {
        requests.delete(res);
        settle();
      });
    },
    /** A long-lived connection opened (a stream's headers went out, or an upgrade's `101`). */
    opened(key: Key, connection: OpenConnection): void {
      open.set(key, connection);
      const delay = lifetimeDelay(connection.exchange, now());
      if (delay !== undefined) lifetimes.set(key, setTimeout(() => end(key, 'lifetime'), delay).unref());
      openListener?.(key, connection);
    },
    /** It closed; returns why: the reason it was ended for, else `fallback` (who closed it). */
    closed(key: Key, fallback: CloseReason): CloseReason {
      clearTimeout(lifetimes.get(key));
      lifetimes.delete(key);
      open.delete(key);
      settle();
      return reasons.get(key) ?? fallback;
    },
    /** Ends one connection for `reason`; a second call, or one for a connection already closed, does nothing. */
    end,
    /** The connections open now. */
    list: (): [Key, OpenConnection][] => [...open],
    /** Ends every open connection, and cuts every request still unanswered. */
    endAll(reason: CloseReason): void {
      for (const key of [...open.keys()]) end(key, reason);
      for (const res of requests) if (!open.has(res)) res.destroy();
    },
    /** Called for each connection opened from now on (a drain schedules its end). */
    onOpen(listener: (key: Key, connection: OpenConnection) => void): void {
      openListener = listener;
    },
    /** Resolves once no request and no connection is open. */
    idle(): Promise<void> {
      return new Promise((resolve) => {
        idleWaiters.push(resolve);
        settle();
      });
    },
  };
}

export type Connections = ReturnType<typeof createConnections>;
