import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { startProxyHost, type ProxyHost } from '../helpers/servers.ts';
import { request } from 'node:http';
import { connect } from 'node:net';
import { getJson, openWatch as open, type WatchEvent, type WatchStream } from '../helpers/watch-client.ts';

/** Every stream a test opens, aborted after it. */
const opened: WatchStream[] = [];
const openWatch = (...args: Parameters<typeof open>) => {
  const stream = open(...args);
  opened.push(stream);
  return stream;
};

const PODS = '/api/v1/namespaces/default/pods';
let fake: FakeCluster;
let proxy: ProxyHost;
const streamEnds: string[] = [];

beforeAll(async () => {
  fake = await startFakeCluster({ name: 'share', tokens: { 'svc-token': 'dashboard', 'alice-token': 'alice', 'bob-token': 'bob' } });
  proxy = await startProxyHost({
    clusters: [
      { name: 'c', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } },
      { name: 'u', server: fake.url, ca: fake.ca },
    ],
    share: { watches: { lingerMs: 250, windowEvents: 50 } },
    on: { streamEnd: (event) => streamEnds.push(event.reason) },
  });
});
afterEach(async () => {
  for (const stream of opened.splice(0)) stream.abort();
  for (const pod of fake.listObjects('v1', 'Pod', 'default')) {
    const { name } = pod.metadata as { name: string };
    if (!/^(web-share-[12]|worker-share-1)$/.test(name)) fake.deletePod('default', name);
  }
  // The shared watches linger out before the next test counts upstream watches.
  await new Promise((resolve) => setTimeout(resolve, 400));
  fake.clearRequests();
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});

/** The watches the fake was asked for on `path`: the shared ones ask for bookmarks, each client's own do not. */
function upstreamWatches(path = PODS, user?: string) {
  const all = fake.requests.filter((r) => r.path.startsWith(`${path}?`) && /[?&]watch=(1|true)/.test(r.path) && (user === undefined || r.user === user));
  return { shared: all.filter((r) => r.path.includes('allowWatchBookmarks=true')), own: all.filter((r) => !r.path.includes('allowWatchBookmarks=true')) };
}

const watchUrl = (query: string, cluster = 'c') => `${proxy.url}/clusters/${cluster}${PODS}?watch=1${query}`;
const names = (events: readonly WatchEvent[], type = 'ADDED') => events.filter((e) => e.type === type).map((e) => e.object.metadata?.name);

/** A pod list's names and resourceVersions, and the list's resourceVersion. */
async function list(cluster = 'c'): Promise<{ items: Map<string, string>; resourceVersion: string }> {
  const { body } = await getJson<{ metadata: { resourceVersion: string }; items: { metadata: { name: string; resourceVersion: string } }[] }>(`${proxy.url}/clusters/${cluster}${PODS}`);
  return { items: new Map(body.items.map((p) => [p.metadata.name, p.metadata.resourceVersion])), resourceVersion: body.metadata.resourceVersion };
}

/**
 * A client that keeps a copy of the pods the way an informer does: list, watch from the list's
 * resourceVersion, re-watch from the last one seen when the stream ends, relist after a 410.
 * Records anything out of order.
 */
class Mirror {
  readonly state = new Map<string, string>();
  readonly problems: string[] = [];
  relists = 0;
  rewatches = 0;
  #last = 0;
  #stream: WatchStream | undefined;
  #stopped = false;

  async run(): Promise<void> {
    for (let round = 0; round < 50 && !this.#stopped; round++) {
      if (round === 0 || this.#last === -1) {
        const listed = await list();
        this.state.clear();
        for (const [name, rv] of listed.items) this.state.set(name, rv);
        this.#last = Number(listed.resourceVersion);
        if (round > 0) this.relists += 1;
      } else this.rewatches += 1;
      const stream = openWatch(watchUrl(`&resourceVersion=${this.#last}`));
      this.#stream = stream;
      stream.onEvent((event) => this.#apply(event));
      await stream.ended;
    }
  }

  #apply(event: WatchEvent): void {
    if (event.type === 'ERROR') {
      if (event.object.code !== 410) this.problems.push(`ERROR ${event.object.code}`);
      this.#last = -1;
      return;
    }
    const rv = Number(event.object.metadata?.resourceVersion);
    if (!(rv > this.#last)) this.problems.push(`${event.type} ${event.object.metadata?.name} at ${rv} after ${this.#last}`);
    this.#last = rv;
    const name = event.object.metadata?.name ?? '';
    if (event.type === 'DELETED') this.state.delete(name);
    else if (event.type !== 'BOOKMARK') this.state.set(name, String(rv));
  }

  stop(): void {
    this.#stopped = true;
    this.#stream?.abort();
  }
}

const fakeState = () =>
  new Map(
    fake.listObjects('v1', 'Pod', 'default').map((p) => {
      const { name, resourceVersion } = p.metadata as { name: string; resourceVersion: string };
      return [name, resourceVersion];
    }),
  );
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates, changes and deletes pods at random, `ops` times, calling `between(i)` before each. */
async function churn(ops: number, between: (i: number) => void = () => undefined): Promise<void> {
  const live: string[] = [];
  for (let i = 0; i < ops; i++) {
    between(i);
    const roll = Math.random();
    if (live.length === 0 || roll < 0.4) {
      const name = `churn-${i}`;
      fake.addPod({ name });
      live.push(name);
    } else if (roll < 0.75) {
      fake.updatePod('default', live[Math.floor(Math.random() * live.length)]!, { labels: { round: String(i) } });
    } else {
      fake.deletePod('default', live.splice(Math.floor(Math.random() * live.length), 1)[0]!);
    }
    await pause(Math.random() * 6);
  }
  for (const name of live) fake.deletePod('default', name);
}

async function mirrorsDuringChurn(count: number, ops: number, between?: (i: number) => void): Promise<Mirror[]> {
  const mirrors = Array.from({ length: count }, () => new Mirror());
  const runs: Promise<void>[] = [];
  const joins = mirrors.map(async (mirror) => {
    await pause(Math.random() * ops * 3);
    runs.push(mirror.run());
  });
  await churn(ops, between);
  await Promise.all(joins);
  const final = fakeState();
  await expect.poll(() => mirrors.filter((m) => JSON.stringify([...m.state].sort()) !== JSON.stringify([...final].sort())).length, { timeout: 10_000 }).toBe(0);
  for (const mirror of mirrors) mirror.stop();
  await Promise.all(runs);
  return mirrors;
}

describe('shared watches', () => {
  it('serves identical watches from one upstream watch, each from its own starting point', async () => {
    fake.clearRequests();
    const first = openWatch(watchUrl(''));
    expect((await first.status).code).toBe(200);
    expect((await first.status).headers['content-type']).toBe('application/json');
    await expect.poll(() => names(first.events)).toEqual(['web-share-1', 'web-share-2', 'worker-share-1']);
    const at = fake.resourceVersion();
    fake.addPod({ name: 'joined-1' });
    const second = openWatch(watchUrl(`&resourceVersion=${at}`));
    await expect.poll(() => names(second.events)).toEqual(['joined-1']);
    await expect.poll(() => names(first.events)).toContain('joined-1');
    expect(upstreamWatches().shared).toHaveLength(1);
    expect(upstreamWatches().own).toHaveLength(0);
    first.abort();
    second.abort();
    fake.deletePod('default', 'joined-1');
  });

  it('100 watchers joining at random during churn, each after its own list, end with the fake’s state from one upstream watch', async () => {
    const mirrors = await mirrorsDuringChurn(100, 200);
    expect(mirrors.flatMap((m) => m.problems)).toEqual([]);
    // Clean ends come only from a drop or a timeout: there was neither.
    expect(mirrors.reduce((n, m) => n + m.rewatches, 0)).toBe(0);
    // Mirrors that listed before the shared watch started and joined after it got 410 and relisted
    // (from the proxy's window, not the fake's): their relists are lists, not watches.
    const { shared, own } = upstreamWatches();
    expect(own).toHaveLength(0);
    expect(shared).toHaveLength(1);
  });

  it('resumes a dropped upstream watch from the last resourceVersion: no gap, no duplicate', async () => {
    let drops = 0;
    const mirrors = await mirrorsDuringChurn(20, 150, (i) => {
      if (i % 50 === 25) {
        fake.dropWatches();
        drops += 1;
      }
    });
    expect(mirrors.flatMap((m) => m.problems)).toEqual([]);
    expect(mirrors.reduce((n, m) => n + m.rewatches, 0)).toBe(0);
    const { shared, own } = upstreamWatches();
    expect(own).toHaveLength(0);
    // The first watch, and one resume per drop from the last resourceVersion it saw.
    expect(shared).toHaveLength(1 + drops);
  });

  it('shares only within one identity: two user tokens, two upstream watches; a refused token gets 401 while the others run', async () => {
    const alice = [openWatch(watchUrl('', 'u'), { authorization: 'Bearer alice-token' }), openWatch(watchUrl('', 'u'), { authorization: 'Bearer alice-token' })];
    const bob = openWatch(watchUrl('', 'u'), { authorization: 'Bearer bob-token' });
    for (const stream of [...alice, bob]) await expect.poll(() => names(stream.events).length).toBe(3);
    const refused = openWatch(watchUrl('', 'u'), { authorization: 'Bearer stolen-token' });
    const answer = await refused.status;
    expect(answer.code).toBe(401);
    expect(JSON.parse(answer.body ?? '{}')).toMatchObject({ kind: 'Status', code: 401 });
    fake.addPod({ name: 'after-refusal' });
    for (const stream of [...alice, bob]) await expect.poll(() => names(stream.events)).toContain('after-refusal');
    expect(upstreamWatches(PODS, 'alice').shared).toHaveLength(1);
    expect(upstreamWatches(PODS, 'bob').shared).toHaveLength(1);
    for (const stream of [...alice, bob]) stream.abort();
    fake.deletePod('default', 'after-refusal');
  });

  it('a 410 to a resume reaches every subscriber as the ERROR event, and their streams end', async () => {
    const streams = [openWatch(watchUrl('')), openWatch(watchUrl('')), openWatch(watchUrl(`&resourceVersion=${fake.resourceVersion()}`))];
    for (const stream of streams) expect((await stream.status).code).toBe(200);
    await expect.poll(() => fake.activeStreams('watch')).toBe(1);
    // All before the proxy can resume: the resume finds its resourceVersion compacted away.
    fake.dropWatches();
    fake.addPod({ name: 'while-away' });
    fake.compact();
    for (const stream of streams) {
      expect(await stream.ended).toBe('end');
      expect(stream.events.at(-1)).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410 } });
      // No made-up diff: the pod written meanwhile is not reported.
      expect(names(stream.events)).not.toContain('while-away');
    }
    fake.deletePod('default', 'while-away');
  });

  it('answers a resourceVersion older than its window with 410 Expired (the fake still has it)', async () => {
    const first = openWatch(watchUrl(''));
    await expect.poll(() => names(first.events).length).toBe(3);
    const old = fake.resourceVersion();
    for (let i = 0; i < 60; i++) fake.updatePod('default', 'web-share-1', { labels: { step: String(i) } });
    await expect.poll(() => first.events.length).toBe(63);
    const late = openWatch(watchUrl(`&resourceVersion=${old}`));
    expect(await late.ended).toBe('end');
    expect(late.events).toEqual([{ type: 'ERROR', object: expect.objectContaining({ kind: 'Status', reason: 'Expired', code: 410 }) }]);
    // One inside the window gets exactly the events after it.
    const recent = openWatch(watchUrl(`&resourceVersion=${Number(fake.resourceVersion()) - 5}`));
    await expect.poll(() => recent.events.length).toBe(5);
    expect(recent.events.map((e) => e.object.metadata?.resourceVersion)).toEqual(first.events.slice(-5).map((e) => e.object.metadata?.resourceVersion));
    first.abort();
    recent.abort();
  });

  it('sendInitialEvents gets the initial-events-end bookmark; bookmarks only when asked; timeoutSeconds ends that stream only', async () => {
    const plain = openWatch(watchUrl(''));
    const list = openWatch(watchUrl('&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan'));
    const short = openWatch(watchUrl('&timeoutSeconds=1&allowWatchBookmarks=true'));
    await expect.poll(() => list.events.length).toBe(4);
    expect(names(list.events)).toEqual(['web-share-1', 'web-share-2', 'worker-share-1']);
    expect(list.events[3]).toMatchObject({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } } } });
    expect(list.events[3]?.object.metadata?.resourceVersion).toBe(fake.resourceVersion());
    expect(await short.ended).toBe('end');
    fake.addPod({ name: 'after-bookmark' });
    await expect.poll(() => names(list.events)).toContain('after-bookmark');
    fake.sendBookmarks();
    await expect.poll(() => list.events.slice(4).map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK']);
    await expect.poll(() => names(plain.events)).toContain('after-bookmark');
    expect(plain.events.map((e) => e.type)).not.toContain('BOOKMARK');
    expect(fake.activeStreams('watch')).toBe(1);
    plain.abort();
    list.abort();
    fake.deletePod('default', 'after-bookmark');
  });

  it('a resourceVersion newer than the shared watch has seen waits for it; one the cluster never reaches gets its own watch', async () => {
    const first = openWatch(watchUrl(''));
    await expect.poll(() => names(first.events).length).toBe(3);
    const next = Number(fake.resourceVersion()) + 1;
    const ahead = openWatch(watchUrl(`&resourceVersion=${next}`));
    await pause(300);
    fake.addPod({ name: 'awaited' }); // at `next`: nothing after it yet
    fake.addPod({ name: 'after-awaited' });
    await expect.poll(() => names(ahead.events)).toEqual(['after-awaited']);
    expect(upstreamWatches().own).toHaveLength(0);
    const never = openWatch(watchUrl('&resourceVersion=999999'));
    // The cluster's own answer after its own wait: 504 Too large resource version.
    const answer = await never.status;
    expect(answer.code).toBe(504);
    expect(upstreamWatches().own).toHaveLength(1);
    expect(upstreamWatches().shared).toHaveLength(1);
    first.abort();
    ahead.abort();
    fake.deletePod('default', 'awaited');
    fake.deletePod('default', 'after-awaited');
  }, 20_000);

  it('a subscriber that listed after writes to other resources is served from the shared watch at once', async () => {
    const first = openWatch(watchUrl(''));
    await expect.poll(() => names(first.events).length).toBe(3);
    // The cluster's resourceVersion moves on; the pods' watch sees nothing of it.
    for (let i = 0; i < 3; i++) fake.addObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `elsewhere-${i}`, namespace: 'default' } });
    const listed = await list();
    const informer = openWatch(watchUrl(`&resourceVersion=${listed.resourceVersion}`));
    expect((await informer.status).code).toBe(200);
    fake.addPod({ name: 'after-elsewhere' });
    await expect.poll(() => names(informer.events)).toEqual(['after-elsewhere']);
    // Answered before any pod event could settle it, by the shared watch: no watch of its own.
    expect(upstreamWatches().own).toHaveLength(0);
    expect(upstreamWatches().shared).toHaveLength(1);
    for (let i = 0; i < 3; i++) fake.deleteObject('v1', 'ConfigMap', `elsewhere-${i}`, 'default');
  });

  it('read-your-writes: a watch after a write through the proxy starts from a state with it', async () => {
    const first = openWatch(watchUrl(''));
    await expect.poll(() => names(first.events).length).toBe(3);
    for (let i = 0; i < 5; i++) {
      const created = await getJsonPost(`${proxy.url}/clusters/c${PODS}`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `ryw-${i}` }, spec: { containers: [{ name: 'app', image: 'nginx' }] } });
      expect(created).toBe(201);
      const after = openWatch(watchUrl(''));
      await expect.poll(() => names(after.events)).toContain(`ryw-${i}`);
      after.abort();
    }
    first.abort();
    for (let i = 0; i < 5; i++) fake.deletePod('default', `ryw-${i}`);
  });
});

function getJsonPost(url: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('shared watch subscribers and the proxy’s lifecycle', () => {
  it('cuts off a subscriber that does not read, without holding back the one that does', async () => {
    const ends: string[] = [];
    const host = await startProxyHost({
      clusters: [{ name: 'c', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } }],
      share: { watches: { maxQueuedBytes: 64 * 1024 } },
      on: { streamEnd: (event) => ends.push(event.reason) },
    });
    try {
      const url = `${host.url}/clusters/c${PODS}?watch=1`;
      const fast = open(url);
      await expect.poll(() => names(fast.events).length).toBe(3);
      const slow = connect(Number(new URL(host.url).port), '127.0.0.1');
      slow.write(`GET /clusters/c${PODS}?watch=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      let received = '';
      slow.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      await expect.poll(() => received).toContain('worker-share-1');
      slow.pause();
      const big = 'x'.repeat(200 * 1024);
      for (let i = 0; i < 100; i++) {
        fake.updatePod('default', 'web-share-1', { annotations: { big, step: String(i) } });
        await pause(1);
      }
      await expect.poll(() => fast.events.filter((e) => e.type === 'MODIFIED').length, { timeout: 20_000 }).toBe(100);
      slow.resume();
      // Its stream was ended (the chunked terminator), after fewer events than there were.
      await expect.poll(() => received.endsWith('\r\n0\r\n\r\n'), { timeout: 10_000 }).toBe(true);
      expect(received.split('"MODIFIED"').length - 1).toBeLessThan(100);
      slow.destroy();
      fast.abort();
      expect(fake.activeStreams('watch')).toBe(1);
    } finally {
      await host.close();
    }
  }, 40_000);

  it('writes a start larger than the queue bound as fast as the client reads it, without cutting it off', async () => {
    const host = await startProxyHost({ clusters: [{ name: 'c', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } }], share: { watches: { maxQueuedBytes: 64 * 1024 } } });
    try {
      const url = `${host.url}/clusters/c${PODS}?watch=1`;
      const first = open(url);
      await expect.poll(() => names(first.events).length).toBe(3);
      const at = fake.resourceVersion();
      const big = 'y'.repeat(50 * 1024);
      for (let i = 0; i < 20; i++) fake.addPod({ name: `large-${i}`, annotations: { big } });
      await expect.poll(() => names(first.events).length).toBe(23);
      // 1 MB of current objects, and as much of kept events, for a bound of 64 KiB.
      const fresh = open(url);
      const resumed = open(`${url}&resourceVersion=${at}`);
      await expect.poll(() => names(fresh.events).length).toBe(23);
      await expect.poll(() => names(resumed.events).length).toBe(20);
      fake.addPod({ name: 'after-large' });
      for (const stream of [first, fresh, resumed]) await expect.poll(() => names(stream.events)).toContain('after-large');
      for (const stream of [first, fresh, resumed]) stream.abort();
    } finally {
      await host.close();
    }
  });

  it('a drain ends shared-watch subscribers like other watches, and close ends the upstream watch', async () => {
    const ends: string[] = [];
    const host = await startProxyHost({
      clusters: [{ name: 'c', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } }],
      share: { watches: true },
      on: { streamEnd: (event) => ends.push(event.reason) },
    });
    const url = `${host.url}/clusters/c${PODS}?watch=1`;
    const streams = [open(url), open(url), open(url)];
    for (const stream of streams) await expect.poll(() => names(stream.events).length).toBe(3);
    expect(fake.activeStreams('watch')).toBe(1);
    await host.proxy.drain({ graceMs: 2000, watchSpreadMs: 200 });
    for (const stream of streams) expect(await stream.ended).toBe('end');
    expect(ends).toEqual(['drain', 'drain', 'drain']);
    await expect.poll(() => fake.activeStreams('watch')).toBe(0);
    await host.close();

    const other = await startProxyHost({ clusters: [{ name: 'c', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } }], share: { watches: { lingerMs: 60_000 } } });
    const lingering = open(`${other.url}/clusters/c${PODS}?watch=1`);
    await expect.poll(() => names(lingering.events).length).toBe(3);
    lingering.abort();
    await pause(100);
    expect(fake.activeStreams('watch')).toBe(1);
    await other.close();
    await expect.poll(() => fake.activeStreams('watch')).toBe(0);
  });
});
