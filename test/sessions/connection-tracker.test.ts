import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloseReason, SessionConnection } from 'kube-cluster-proxy';
import { createConnectionTracker } from '../../src/sessions/connection-tracker.ts';

let server: Server;
let port: number;
const accepted: Socket[] = [];

beforeAll(async () => {
  server = createServer((socket) => accepted.push(socket.on('error', () => {})));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  for (const socket of accepted) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A real loopback connection, as an upgraded client socket would be. */
async function connection(): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  return socket;
}

/** Resolves when `socket` closes, rejects if it is still open after `ms`. */
function closesWithin(socket: Socket, ms: number): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The socket as the proxy hands a connection to the tracker, with the reasons it was ended for. */
function handle(socket: Socket, reasons: CloseReason[] = []): SessionConnection {
  return {
    end: (reason) => {
      reasons.push(reason);
      socket.destroy();
    },
    onClose: (listener) => socket.once('close', listener),
  };
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function tracker(alive: Set<string>, options: { maxAgeMs?: number; failing?: () => boolean; errors?: unknown[] } = {}) {
  let checks = 0;
  const created = createConnectionTracker({
    exists: (key) => {
      checks++;
      if (options.failing?.()) return Promise.reject(new Error('store down'));
      return Promise.resolve(alive.has(key));
    },
    checkIntervalMs: 20,
    maxAgeMs: options.maxAgeMs,
    onError: (error) => options.errors?.push(error),
  });
  return Object.assign(created, { checks: () => checks });
}

describe('createConnectionTracker', () => {
  it('closes the connections of a session ended here at once, and only those', async () => {
    const t = tracker(new Set(['a', 'b']));
    const [a1, a2, b] = await Promise.all([connection(), connection(), connection()]);
    const reasons: CloseReason[] = [];
    const bReasons: CloseReason[] = [];
    t.track('a', handle(a1, reasons));
    t.track('a', handle(a2, reasons));
    t.track('b', handle(b, bReasons));
    t.closeSession('a');
    expect(a1.destroyed && a2.destroyed).toBe(true);
    expect(reasons).toEqual(['logout', 'logout']);
    expect(b.destroyed).toBe(false);
    t.close();
    expect(b.destroyed).toBe(true);
    expect(bReasons).toEqual(['shutdown']);
  });

  it('closes the connections of a session that disappeared from the store (ended on another replica)', async () => {
    const alive = new Set(['a', 'b']);
    const t = tracker(alive);
    const [a, b] = await Promise.all([connection(), connection()]);
    const reasons: CloseReason[] = [];
    t.track('a', handle(a, reasons));
    t.track('b', handle(b));
    alive.delete('a');
    await closesWithin(a, 2_000);
    expect(reasons).toEqual(['logout']);
    await wait(100);
    expect(b.destroyed).toBe(false);
    t.close();
  });

  it('keeps the connections while the store cannot answer, reporting it, and closes them once it says the session is gone', async () => {
    const alive = new Set(['a']);
    let down = true;
    const errors: unknown[] = [];
    const t = tracker(alive, { failing: () => down, errors });
    const a = await connection();
    t.track('a', handle(a));
    alive.delete('a');
    await wait(150);
    expect(errors.length).toBeGreaterThan(0);
    expect(a.destroyed).toBe(false);
    down = false;
    await closesWithin(a, 2_000);
  });

  it('closes a connection older than maxAgeMs', async () => {
    const t = tracker(new Set(['a']), { maxAgeMs: 100 });
    const a = await connection();
    const reasons: CloseReason[] = [];
    t.track('a', handle(a, reasons));
    await closesWithin(a, 2_000);
    expect(reasons).toEqual(['lifetime']);
    t.close();
  });

  it('stops checking when no connection is left, and forgets closed ones', async () => {
    const t = tracker(new Set(['a']));
    const a = await connection();
    t.track('a', handle(a));
    await wait(100);
    expect(t.checks()).toBeGreaterThan(0);
    a.destroy();
    await once(a, 'close');
    const after = t.checks();
    await wait(150);
    expect(t.checks()).toBe(after);
    // A session tracked again starts the checks again.
    const again = await connection();
    t.track('a', handle(again));
    await wait(100);
    expect(t.checks()).toBeGreaterThan(after);
    t.close();
  });
});
