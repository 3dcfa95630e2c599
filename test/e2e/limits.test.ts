import { spawn } from 'node:child_process';
import { createServer, request, type ClientRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { completion, requireKubectl } from '../helpers/kubectl.ts';
import { closeServer, freePort, listen, send, startProxyHost, type ProxyHost } from '../helpers/servers.ts';

// limits: short requests held in flight by an upstream that answers only when told to, streams
// (HTTP watches, WebSocket watches) held open by the fake. Run once per engine.

let fake: FakeCluster;
let slow: Server;
let host: ProxyHost;
/** Requests the slow upstream holds, answered by `releaseHeld()`. */
const held: ServerResponse[] = [];
/** Error codes the proxy answered with, from its `error` hook. */
const answered: string[] = [];

beforeAll(async () => {
  fake = await startFakeCluster({ name: 'limits', tokens: { 'svc-token': { user: 'dashboard', groups: ['system:masters'] } } });
  slow = createServer((req, res) => {
    if (req.url?.includes('/hold')) held.push(res);
    else res.end('{"kind":"Status","status":"Success"}');
  });
  const slowUrl = await listen(slow);
  const deadPort = await freePort();
  host = await startProxyHost({
    clusters: [
      { name: 'slow', server: slowUrl, credentials: { token: 'x' } },
      { name: 'slow-users', server: slowUrl },
      { name: 'dead', server: `http://127.0.0.1:${deadPort}`, credentials: { token: 'x' } },
      { name: 'fake', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } },
    ],
    limits: { requestsPerUser: 2, watchesPerUser: 2, requestsPerCluster: 3 },
    on: { error: (event) => answered.push(event.error.code) },
  });
});
afterAll(async () => {
  releaseHeld();
  await host.close();
  await closeServer(slow);
  await fake.close();
});

function releaseHeld(): void {
  for (const res of held.splice(0)) res.end('{}');
}

/** Polls `check` every 20 ms for at most 5 s. */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('timed out waiting');
}

/** Starts a GET and resolves once its response headers arrived; the body is left unread until `end`. */
function open(path: string, headers: Record<string, string> = {}): { req: ClientRequest; response: Promise<IncomingMessage> } {
  let req!: ClientRequest;
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req = request(`${host.url}/clusters${path}`, { headers, agent: false }, resolve);
    req.on('error', reject);
    req.end();
  });
  response.catch(() => {});
  return { req, response };
}

/** Holds `n` short requests at the slow upstream, for `headers`' user. */
async function hold(cluster: string, n: number, headers: Record<string, string> = {}): Promise<ClientRequest[]> {
  const before = held.length;
  const requests = Array.from({ length: n }, () => open(`/${cluster}/api/v1/namespaces/default/pods/hold`, headers).req);
  await until(() => held.length === before + n);
  return requests;
}

function expectTooMany(answer: { status: number; headers: Record<string, unknown>; body: string }, limit: string): void {
  expect(answer.status).toBe(429);
  expect(answer.headers['retry-after']).toBe('1');
  expect(answer.headers['x-kube-cluster-proxy-error']).toBe('ERR_TOO_MANY_REQUESTS');
  const status = JSON.parse(answer.body) as { kind: string; code: number; reason: string; message: string };
  expect(status).toMatchObject({ kind: 'Status', code: 429, reason: 'TooManyRequests' });
  expect(status.message).toContain(`limits.${limit}`);
}

/** A WebSocket watch: resolves with the status of the answer (101 when it opened) and the socket. */
function wsWatch(): Promise<{ status: number; headers: Record<string, unknown>; body: string; ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${host.url.replace('http', 'ws')}/clusters/fake/api/v1/namespaces/default/pods?watch=1`);
    ws.on('upgrade', () => resolve({ status: 101, headers: {}, body: '', ws }));
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), ws }));
    });
    ws.on('error', (error) => {
      if (ws.readyState !== WebSocket.CLOSED) reject(error);
    });
  });
}

describe('limits on short requests', () => {
  it('answers 429 with Retry-After over requestsPerUser; another user is not held back', async () => {
    const alice = { authorization: 'Bearer alice' };
    await hold('slow-users', 2, alice);
    expectTooMany(await send(`${host.url}/clusters/slow-users/api/v1/namespaces/default/pods/x`, { headers: alice }), 'requestsPerUser');
    expect((await send(`${host.url}/clusters/slow-users/api/v1/namespaces/default/pods/x`, { headers: { authorization: 'Bearer bob' } })).status).toBe(200);
    releaseHeld();
    await until(async () => (await send(`${host.url}/clusters/slow-users/api/v1/namespaces/default/pods/x`, { headers: alice })).status === 200);
  });

  it('answers 429 over requestsPerCluster, whoever asks', async () => {
    await hold('slow-users', 2, { authorization: 'Bearer alice' });
    await hold('slow-users', 1, { authorization: 'Bearer bob' });
    expectTooMany(await send(`${host.url}/clusters/slow-users/api/v1/namespaces/default/pods/x`, { headers: { authorization: 'Bearer carol' } }), 'requestsPerCluster');
    // Another cluster has its own budget.
    expect((await send(`${host.url}/clusters/slow/api/v1/namespaces/default/pods/x`)).status).toBe(200);
    releaseHeld();
  });

  it('releases a request its client abandoned, exactly once', async () => {
    const clients = await hold('slow', 2);
    for (const c of clients) c.destroy();
    // Released once each: two may be held again, and the third is refused (released twice, it would pass).
    await until(async () => (await send(`${host.url}/clusters/slow/api/v1/namespaces/default/pods/x`)).status === 200);
    await hold('slow', 2);
    expectTooMany(await send(`${host.url}/clusters/slow/api/v1/namespaces/default/pods/x`), 'requestsPerUser');
    releaseHeld();
    await until(async () => (await send(`${host.url}/clusters/slow/api/v1/namespaces/default/pods/x`)).status === 200);
  });

  it('releases requests that finished or failed', async () => {
    for (let i = 0; i < 5; i++) expect((await send(`${host.url}/clusters/slow/api/v1/namespaces/default/pods/x`)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await send(`${host.url}/clusters/dead/api/v1/namespaces/default/pods/x`)).status).toBe(502);
    await hold('slow', 2);
    expectTooMany(await send(`${host.url}/clusters/slow/api/v1/namespaces/default/pods/x`), 'requestsPerUser');
    releaseHeld();
  });
});

describe('a client that honours Retry-After', () => {
  it('kubectl waits and retries a 429, then gets its answer', async () => {
    const kubectl = requireKubectl();
    await hold('slow', 2);
    const refusedBefore = answered.filter((c) => c === 'ERR_TOO_MANY_REQUESTS').length;
    const run = completion(spawn(kubectl, ['--server', host.url, 'get', '--raw', '/clusters/slow/api/v1/namespaces/default/pods/x', '-v=6'], { env: { ...process.env, KUBECONFIG: '/dev/null' } }), '', 20_000);
    await until(() => answered.filter((c) => c === 'ERR_TOO_MANY_REQUESTS').length > refusedBefore);
    releaseHeld();
    const result = await run;
    // kubectl's own log (-v=6): refused, told to wait 1 s, answered.
    expect(result.stderr).toMatch(/GET \S+\/pods\/x 429 Too Many Requests[\s\S]*Retry-After 1s[\s\S]*GET \S+\/pods\/x 200 OK/);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('"status":"Success"');
  });
});

describe('limits on streams', () => {
  it('counts watches and upgrades together over watchesPerUser, apart from the short budget', async () => {
    const watches = [open('/fake/api/v1/namespaces/default/pods?watch=1'), open('/fake/api/v1/namespaces/default/pods?watch=1')];
    for (const w of watches) expect((await w.response).statusCode).toBe(200);
    expectTooMany(await send(`${host.url}/clusters/fake/api/v1/namespaces/default/pods?watch=1`), 'watchesPerUser');
    const refusedUpgrade = await wsWatch();
    expectTooMany(refusedUpgrade, 'watchesPerUser');
    // Two open streams, and the two short requests of the same user still go through at once.
    const short = await Promise.all([send(`${host.url}/clusters/fake/api/v1/namespaces/default/pods`), send(`${host.url}/clusters/fake/api`)]);
    expect(short.map((a) => a.status)).toEqual([200, 200]);

    // A watch ends: an upgrade takes its place, and then the budget is full again.
    watches[0]!.req.destroy();
    let upgraded: Awaited<ReturnType<typeof wsWatch>> | undefined;
    await until(async () => {
      const attempt = await wsWatch();
      if (attempt.status === 101) upgraded = attempt;
      return attempt.status === 101;
    });
    expectTooMany(await send(`${host.url}/clusters/fake/api/v1/namespaces/default/pods?watch=1`), 'watchesPerUser');
    upgraded!.ws.close();
    watches[1]!.req.destroy();
    await until(async () => {
      const attempts = [open('/fake/api/v1/namespaces/default/pods?watch=1'), open('/fake/api/v1/namespaces/default/pods?watch=1')];
      const codes = await Promise.all(attempts.map(async (a) => (await a.response).statusCode));
      for (const a of attempts) a.req.destroy();
      return codes.every((c) => c === 200);
    });
  });
});
