import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TooManyRequestsError } from '../../src/errors.ts';
import type { Route } from '../../src/forward/route.ts';
import { createInFlightLimits } from '../../src/limits/in-flight-limits.ts';
import { createServe } from '../../src/pipeline/serve.ts';
import { testExchange } from '../helpers/exchange.ts';
import { closeServer, listen } from '../helpers/servers.ts';

// The limits' release on every way a request ends: answered, failed, abandoned by its client,
// ended by the proxy (as a drain ends a stream), and for upgrades, the socket closing.

const limits = createInFlightLimits({ requestsPerUser: 1, watchesPerUser: 1, requestsPerCluster: Infinity });
/** What the route does with the next HTTP request. */
let behave: (res: ServerResponse) => void = (res) => res.end('ok');
let lastRes: ServerResponse | undefined;
const sockets: Duplex[] = [];
const route = {
  http: (_req: IncomingMessage, res: ServerResponse) => {
    lastRes = res;
    behave(res);
  },
  upgrade: (_req: IncomingMessage, socket: Duplex) => {
    sockets.push(socket);
    // As the real pipe does: the client's end ends the connection (the server's sockets are half-open).
    socket.on('end', () => socket.end());
    socket.write('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n');
  },
} as unknown as Route;
const serve = createServe(limits, undefined);
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const streaming = req.url?.includes('watch') ?? false;
    try {
      serve.http(req, res, { exchange: testExchange({ path: req.url ?? '/', streaming }), route });
    } catch (error) {
      res.writeHead((error as TooManyRequestsError).statusCode).end();
    }
  });
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    try {
      serve.upgrade(req, socket, head, { exchange: testExchange({ path: '/api/v1/namespaces/default/pods/web/exec', upgrade: true }), route });
    } catch (error) {
      socket.end(`HTTP/1.1 ${(error as TooManyRequestsError).statusCode} Too Many Requests\r\ncontent-length: 0\r\n\r\n`);
    }
  });
  url = await listen(server);
});
afterAll(() => closeServer(server));

function get(path = '/x'): Promise<number> {
  return new Promise((resolve, reject) => {
    request(`${url}${path}`, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

/** Whether the budget of one short request is free: a request that holds it answers 200, else 429. */
async function free(path = '/x'): Promise<boolean> {
  behave = (res) => res.end('ok');
  for (let i = 0; i < 100; i++) {
    if ((await get(path)) === 200) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

describe('createServe releases the limits', () => {
  it('when the response finished', async () => {
    for (let i = 0; i < 3; i++) expect(await get()).toBe(200);
  });

  it('when the route failed the response', async () => {
    behave = (res) => res.destroy();
    await expect(get()).rejects.toThrow();
    expect(await free()).toBe(true);
  });

  it('when the client went away, once', async () => {
    lastRes = undefined;
    behave = () => {};
    const req = request(`${url}/x`, { agent: false });
    req.on('error', () => {});
    req.end();
    for (let i = 0; i < 100 && !lastRes; i++) await new Promise((r) => setTimeout(r, 10));
    // Held: another request is refused.
    behave = (res) => res.end('ok');
    expect(await get()).toBe(429);
    req.destroy();
    expect(await free()).toBe(true);
    lastRes = undefined;
  });

  it('when the proxy ended a stream (as a drain does), which never held the short budget', async () => {
    behave = (res) => {
      res.writeHead(200);
      res.write('streaming');
    };
    const watch = await new Promise<IncomingMessage>((resolve) => request(`${url}/watch`, { agent: false }, resolve).end());
    watch.resume();
    const stream = lastRes!;
    expect(await get('/watch')).toBe(429);
    behave = (res) => res.end('ok');
    expect(await get()).toBe(200);
    stream.end();
    behave = (res) => res.end('ok');
    expect(await free('/watch')).toBe(true);
  });

  it('when an upgraded socket closed', async () => {
    // The stream of the test before is released once its response closed, a moment after its client saw the end.
    let first = await upgrade();
    for (let i = 0; i < 100 && !first.answer.startsWith('HTTP/1.1 101'); i++) {
      await new Promise((r) => setTimeout(r, 20));
      first = await upgrade();
    }
    expect(first.answer).toMatch(/^HTTP\/1\.1 101/);
    expect((await upgrade()).answer).toMatch(/^HTTP\/1\.1 429/);
    first.socket.destroy();
    let again = '';
    for (let i = 0; i < 100 && !again.startsWith('HTTP/1.1 101'); i++) {
      const attempt = await upgrade();
      again = attempt.answer;
      if (!again.startsWith('HTTP/1.1 101')) await new Promise((r) => setTimeout(r, 20));
      else attempt.socket.destroy();
    }
    expect(again).toMatch(/^HTTP\/1\.1 101/);
    for (const s of sockets.splice(0)) s.destroy();
  });
});

function upgrade(): Promise<{ answer: string; socket: ReturnType<typeof connect> }> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write('GET /exec HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n'));
    socket.once('data', (data) => resolve({ answer: data.toString(), socket }));
  });
}
