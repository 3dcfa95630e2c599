import { Agent, request, type IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { bearerSubprotocol, type ForwardEngine, type StreamEndEvent, type UpgradeEvent } from 'kube-cluster-proxy';
import { spreadOffsets } from '../../src/lifecycle/drain.ts';
import { send, startProxyHost, type ProxyHost } from '../helpers/servers.ts';
import { execQuery } from '../helpers/websocket.ts';

const TOKEN = 'drain-token';
const auth = { authorization: `Bearer ${TOKEN}` };
let fake: FakeCluster;

beforeAll(async () => {
  fake = await startFakeCluster({ name: 'drain', tokens: { [TOKEN]: { user: 'alice', groups: ['system:masters'] } } });
});
afterAll(() => fake.close());

/** Polls `condition` every 20 ms, for at most `ms`. */
async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface OpenWatch {
  /** Milliseconds (performance.now) when the response ended or broke. */
  endedAt: Promise<{ at: number; clean: boolean }>;
}

/** An HTTP watch with a plain node:http client; `clean` when the response ended complete (chunked terminator). */
function openWatch(url: string, agent: Agent): Promise<OpenWatch> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/clusters/c/api/v1/namespaces/default/pods?watch=1`, { headers: auth, agent });
    req.on('error', reject);
    req.on('response', (res: IncomingMessage) => {
      expect(res.statusCode).toBe(200);
      const endedAt = new Promise<{ at: number; clean: boolean }>((done) => {
        res.on('data', () => {});
        res.on('end', () => done({ at: performance.now(), clean: res.complete }));
        res.on('error', () => done({ at: performance.now(), clean: false }));
        res.on('aborted', () => done({ at: performance.now(), clean: false }));
      });
      resolve({ endedAt });
    });
    req.end();
  });
}

/** An exec of `cat` with stdin open, which lasts until someone closes it. */
function openExec(url: string): Promise<{ closedAt: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(
      `${url.replace('http', 'ws')}/clusters/c/api/v1/namespaces/default/pods/web-drain-1/exec?${execQuery(['cat'], true)}`,
      [bearerSubprotocol(TOKEN), 'v5.channel.k8s.io'],
    );
    const closedAt = new Promise<number>((done) => ws.on('close', () => done(performance.now())));
    ws.on('open', () => resolve({ closedAt }));
    ws.on('error', reject);
  });
}

async function withProxy(engine: ForwardEngine, run: (host: ProxyHost, hooks: { upgrades: UpgradeEvent[]; streams: StreamEndEvent[] }) => Promise<void>) {
  const hooks = { upgrades: [] as UpgradeEvent[], streams: [] as StreamEndEvent[] };
  const host = await startProxyHost({
    clusters: [{ name: 'c', server: fake.url, ca: fake.ca }],
    engine,
    on: { upgrade: (e) => hooks.upgrades.push(e), streamEnd: (e) => hooks.streams.push(e) },
  });
  try {
    await run(host, hooks);
  } finally {
    await host.close();
  }
}

/** How many of `ends` each tenth of `[start, start + windowMs]` holds (ends past the window count in the last). */
function tenths(ends: number[], start: number, windowMs: number): number[] {
  const buckets = Array.from({ length: 10 }, () => 0);
  for (const at of ends) buckets[Math.min(9, Math.max(0, Math.floor(((at - start) / windowMs) * 10)))]! += 1;
  return buckets;
}

describe('spreadOffsets', () => {
  it.each([
    [200, 1_000],
    [7, 350],
    [1_000, 30_000],
  ])('puts %i ends over %i ms, in order, inside the window, a tenth of them (rounded up) in each tenth', (count, windowMs) => {
    const offsets = spreadOffsets(count, windowMs);
    expect(offsets).toHaveLength(count);
    expect(offsets.every((at, i) => at > 0 && at < windowMs && (i === 0 || at > offsets[i - 1]!))).toBe(true);
    expect(Math.max(...tenths(offsets, 0, windowMs))).toBeLessThanOrEqual(Math.ceil(count / 10));
  });

  it('has nothing to spread for no stream, and one stream in the middle', () => {
    expect(spreadOffsets(0, 1_000)).toEqual([]);
    expect(spreadOffsets(1, 1_000)).toEqual([500]);
  });
});

describe('drain()', () => {
  it('lets short requests in flight finish and refuses new requests and upgrades with 503 and Retry-After', async () => {
    await withProxy('undici', async (host) => {
      const agent = new Agent({ keepAlive: false, maxSockets: 100 });
      const exec = await openExec(host.url);
      await until(() => fake.activeStreams('exec') === 1);

      // Short requests in flight when the drain starts: their bodies are still on the way.
      const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: {} });
      const seen = fake.requests.length;
      const pending = Array.from({ length: 5 }, (_, i) => {
        const text = body.replace('"x"', `"cm-${i}"`);
        const req = request(`${host.url}/clusters/c/api/v1/namespaces/default/configmaps`, {
          method: 'POST',
          agent,
          headers: { ...auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
        });
        const status = new Promise<number>((resolve, reject) => {
          req.on('response', (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
        });
        req.write(text.slice(0, 10));
        return { req, status, rest: text.slice(10) };
      });
      await until(() => fake.requests.slice(seen).filter((r) => r.method === 'POST').length === 5);

      // The exec keeps the drain going for its grace, so the refusals below are the drain's.
      const drained = host.proxy.drain({ graceMs: 2_000 });
      for (const p of pending) p.req.end(p.rest);

      const fresh = await send(`${host.url}/clusters/c/api/v1/namespaces/default/pods`, { headers: auth });
      expect(fresh.status).toBe(503);
      expect(Number(fresh.headers['retry-after'])).toBeGreaterThan(0);
      expect(fresh.json()).toMatchObject({ kind: 'Status', code: 503 });
      const refusedExec = await openExec(host.url).then(() => 'opened', (error: Error) => error.message);
      expect(refusedExec).toMatch(/503/);

      expect(await Promise.all(pending.map((p) => p.status))).toEqual([201, 201, 201, 201, 201]);
      await exec.closedAt;
      await drained;
      agent.destroy();
    });
  }, 30_000);

  it('ends 200 watches spread evenly over the window, closes 20 exec sessions at the end of the grace, and tells hooks why', async () => {
    await withProxy('undici', async (host, hooks) => {
      const agent = new Agent({ keepAlive: false, maxSockets: 1_000 });
      const watches = await Promise.all(Array.from({ length: 200 }, () => openWatch(host.url, agent)));
      const execs = await Promise.all(Array.from({ length: 20 }, () => openExec(host.url)));
      await until(() => fake.activeStreams('watch') === 200 && fake.activeStreams('exec') === 20);

      // A 4 s window gives each of the 200 streams a 20 ms slot: an end delayed by a busy machine
      // (client, proxy and fake share one process here) stays in its tenth.
      const start = performance.now();
      const drained = host.proxy.drain({ graceMs: 5_000, watchSpreadMs: 4_000 });
      let resolvedAt = 0;
      void drained.then(() => (resolvedAt = performance.now()));

      const ends = await Promise.all(watches.map((w) => w.endedAt));
      expect(ends.every((e) => e.clean)).toBe(true);
      const at = ends.map((e) => e.at);
      expect(Math.min(...at) - start).toBeLessThan(400);
      expect(Math.max(...at) - start).toBeGreaterThan(3_600);
      expect(Math.max(...at) - start).toBeLessThan(4_800);
      // Stream i ends at (i + 1) / N of the window: each tenth holds 10% of them, one more where
      // a boundary falls between two ends (all at once would be 100% in one tenth).
      const counts = tenths(at, start, 4_000);
      expect(Math.max(...counts), `ends per tenth of the window: ${counts.join(', ')}`).toBeLessThanOrEqual(200 / 10 + 1);

      const closed = await Promise.all(execs.map((e) => e.closedAt));
      expect(Math.min(...closed) - start).toBeGreaterThan(4_900);
      await drained;
      expect(resolvedAt - start).toBeGreaterThanOrEqual(4_900);
      expect(resolvedAt - start).toBeLessThan(6_500);

      expect(hooks.streams.filter((e) => e.reason === 'drain')).toHaveLength(200);
      const closes = hooks.upgrades.filter((e) => e.phase === 'close');
      expect(closes).toHaveLength(20);
      expect(closes.every((e) => e.reason === 'drain')).toBe(true);
      await until(() => fake.activeStreams() === 0);
      agent.destroy();
    });
  }, 30_000);

  it.each(['undici', 'http-proxy-middleware'] as const)('ends HTTP and WebSocket watches cleanly on the %s engine; a drain with nothing open resolves at once', async (engine) => {
    await withProxy(engine, async (host, hooks) => {
      const agent = new Agent({ keepAlive: true });
      const watches = await Promise.all(Array.from({ length: 10 }, () => openWatch(host.url, agent)));
      const ws = new WebSocket(`${host.url.replace('http', 'ws')}/clusters/c/api/v1/namespaces/default/pods?watch=1`, [bearerSubprotocol(TOKEN), 'binary.k8s.io']);
      const wsClosed = new Promise<number>((resolve) => ws.on('close', () => resolve(performance.now())));
      await new Promise((resolve, reject) => ws.on('open', resolve).on('error', reject));
      await until(() => fake.activeStreams('watch') === 11);
      const start = performance.now();
      await host.proxy.drain({ graceMs: 1_000, watchSpreadMs: 500 });
      const ends = await Promise.all(watches.map((w) => w.endedAt));
      expect(ends.every((e) => e.clean)).toBe(true);
      expect(Math.max(...ends.map((e) => e.at)) - start).toBeLessThan(900);
      expect((await wsClosed) - start).toBeLessThan(900);
      expect(hooks.streams.map((e) => e.reason)).toEqual(Array.from({ length: 10 }, () => 'drain'));
      expect(hooks.upgrades.filter((e) => e.phase === 'close').map((e) => e.reason)).toEqual(['drain']);
      await until(() => fake.activeStreams() === 0);
      // Already drained: the same promise, and close() is a no-op.
      await host.proxy.close();
      agent.destroy();
    });
    await withProxy(engine, async (host) => {
      const start = performance.now();
      await host.proxy.drain({ graceMs: 5_000 });
      expect(performance.now() - start).toBeLessThan(1_000);
    });
  }, 20_000);

  it('close() without a drain ends everything at once, with the reason "shutdown"', async () => {
    await withProxy('undici', async (host, hooks) => {
      const agent = new Agent({ keepAlive: true });
      const watch = await openWatch(host.url, agent);
      const exec = await openExec(host.url);
      await until(() => fake.activeStreams('watch') === 1 && fake.activeStreams('exec') === 1);
      await host.proxy.close();
      expect((await watch.endedAt).clean).toBe(true);
      await exec.closedAt;
      expect(hooks.streams.map((e) => e.reason)).toEqual(['shutdown']);
      expect(hooks.upgrades.filter((e) => e.phase === 'close').map((e) => e.reason)).toEqual(['shutdown']);
      agent.destroy();
    });
  });

  it('reports who closed a connection when the proxy did not', async () => {
    await withProxy('undici', async (host, hooks) => {
      const exec = await openExec(host.url);
      await until(() => fake.activeStreams('exec') === 1);
      const ws = [...hooks.upgrades];
      expect(ws).toHaveLength(1);
      // The client closes: reason 'client'.
      const client = new WebSocket(`${host.url.replace('http', 'ws')}/clusters/c/api/v1/namespaces/default/pods/web-drain-1/exec?${execQuery(['cat'], true)}`, [
        bearerSubprotocol(TOKEN),
        'v5.channel.k8s.io',
      ]);
      await new Promise((resolve) => client.on('open', resolve));
      client.terminate();
      await until(() => hooks.upgrades.filter((e) => e.phase === 'close').length === 1);
      expect(hooks.upgrades.find((e) => e.phase === 'close')?.reason).toBe('client');
      await host.proxy.close();
      await exec.closedAt;
    });
  });

  it('refuses options out of range, naming them', async () => {
    await withProxy('undici', (host) => {
      expect(() => host.proxy.drain({ graceMs: -1 })).toThrow(/graceMs/);
      expect(() => host.proxy.drain({ graceMs: Number.NaN })).toThrow(/graceMs/);
      expect(() => host.proxy.drain({ graceMs: 1_000, watchSpreadMs: 2_000 })).toThrow(/watchSpreadMs/);
      expect(() => host.proxy.drain('soon' as never)).toThrow(/drain\(\)/);
      return Promise.resolve();
    });
  });
});
