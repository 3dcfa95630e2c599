import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ForwardObserver } from '../../src/forward/observer.ts';
import type { Route } from '../../src/forward/route.ts';
import { createShare } from '../../src/share/share.ts';
import { testExchange } from '../helpers/exchange.ts';
import { closeServer, listen } from '../helpers/servers.ts';

// createShare between a front server and an upstream that holds every read until told: which
// requests reach the upstream, and when a read may join another.

let upstream: Server;
let front: Server;
let frontUrl: string;
let upstreamUrl: string;
const held: { path: string; res: ServerResponse }[] = [];
let forwarded: string[] = [];

const observer: ForwardObserver = {
  response: () => {},
  opened: () => {},
  closed: () => {},
  streamStarted: () => {},
  failure: (_exchange, error, client) => (client as ServerResponse).writeHead(502).end(String(error)),
};

const route = {
  http(_req: IncomingMessage, res: ServerResponse, exchange: { method: string; path: string }) {
    forwarded.push(`${exchange.method} ${exchange.path}`);
    res.end('forwarded');
  },
  request: (r: { method: string; path: string; signal?: AbortSignal }) =>
    new Promise<IncomingMessage>((resolve, reject) => request(`${upstreamUrl}${r.path}`, { method: r.method, agent: false, signal: r.signal }, resolve).on('error', reject).end()),
} as unknown as Route;

const share = createShare({ watches: undefined, discovery: undefined, reads: { maxBufferBytes: 1024 } }, { observer, now: Date.now });

beforeAll(async () => {
  upstream = createServer((req, res) => held.push({ path: req.url ?? '', res }));
  upstreamUrl = await listen(upstream);
  front = createServer((req, res) => {
    const token = req.headers['x-token'] as string | undefined;
    const exchange = testExchange({
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      ...(token ? { identity: { kind: 'user', source: 'header' } as const, headers: { authorization: `Bearer ${token}` } } : {}),
    });
    share.http(req, res, { exchange, route });
  });
  frontUrl = await listen(front);
});
afterAll(async () => {
  for (const h of held.splice(0)) h.res.end();
  await closeServer(front);
  await closeServer(upstream);
});
beforeEach(() => {
  forwarded = [];
});

function call(method: string, path: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${frontUrl}${path}`, { method, agent: false, headers: token ? { 'x-token': token } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 250 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!check()) throw new Error('timed out waiting');
}

const heldFor = (path: string) => held.filter((h) => h.path === path);
function answer(path: string, body: string): void {
  for (const h of heldFor(path)) {
    held.splice(held.indexOf(h), 1);
    h.res.end(body);
  }
}

describe('createShare with reads', () => {
  it('sends identical concurrent reads of one identity once', async () => {
    const path = '/api/v1/namespaces/a/pods';
    const reads = [call('GET', path), call('GET', path), call('GET', `${path}?`)];
    await until(() => heldFor(path).length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(heldFor(path)).toHaveLength(1);
    answer(path, 'list');
    expect((await Promise.all(reads)).map((r) => r.body)).toEqual(['list', 'list', 'list']);
  });

  it('never lets a read join one sent before a write of the same identity completed', async () => {
    const path = '/api/v1/namespaces/b/configmaps';
    const before = call('GET', path, 'alice');
    await until(() => heldFor(path).length === 1);
    expect(await call('POST', path, 'alice')).toEqual({ status: 200, body: 'forwarded' });
    const after = [call('GET', path, 'alice'), call('GET', path, 'alice')];
    await until(() => heldFor(path).length === 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(heldFor(path)).toHaveLength(2);
    answer(path, 'x');
    await Promise.all([before, ...after]);
  });

  it("lets reads join across another identity's write, but never across identities", async () => {
    const path = '/api/v1/namespaces/c/configmaps';
    const first = call('GET', path, 'alice');
    await until(() => heldFor(path).length === 1);
    await call('DELETE', `${path}/x`, 'bob');
    const joined = call('GET', path, 'alice');
    const other = call('GET', path, 'bob');
    await until(() => heldFor(path).length === 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(heldFor(path)).toHaveLength(2);
    answer(path, 'x');
    await Promise.all([first, joined, other]);
  });

  it('forwards writes, watches and logs unshared', async () => {
    await call('POST', '/api/v1/namespaces/d/pods');
    await call('GET', '/api/v1/namespaces/d/pods/web/log');
    expect(forwarded).toEqual(['POST /api/v1/namespaces/d/pods', 'GET /api/v1/namespaces/d/pods/web/log']);
  });

  it('answers every joined client with the failure when the cluster cannot be asked', async () => {
    const broken = { ...route, request: () => Promise.reject(new Error('no route to cluster')) } as unknown as Route;
    const server = createServer((req, res) => share.http(req, res, { exchange: testExchange({ path: '/api/v1/namespaces/e/pods' }), route: broken }));
    const url = await listen(server);
    const answers = await Promise.all([0, 1].map(() => new Promise<number>((resolve) => request(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).end())));
    expect(answers).toEqual([502, 502]);
    await closeServer(server);
  });
});
