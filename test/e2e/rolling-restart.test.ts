import type { ChildProcess } from 'node:child_process';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { Browser } from '../helpers/browser.ts';
import { nginxSkipReason, startLoadBalancer, type LoadBalancer } from '../helpers/nginx.ts';
import { startOidcProvider, type OidcProvider } from '../helpers/oidc-provider.ts';
import { redisSkipReason, startRedisServer, type RedisServer } from '../helpers/redis-server.ts';
import { replicaEnvironment, startReplica, stopReplica } from '../helpers/replicas.ts';
import { freePort } from '../helpers/servers.ts';

const skip = nginxSkipReason() ?? redisSkipReason();

const CONFIGMAPS = '/clusters/prod/api/v1/namespaces/default/configmaps';
/** How often a client asks again after a 503 with Retry-After, as client-go would (it retries up to 10 times). */
const MAX_ATTEMPTS = 5;
const WATCHERS = 6;
const READERS = 3;
/** The grace each replica drains for on SIGTERM: its watches end spread over the first half. */
const DRAIN_MS = 2_000;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Watcher {
  /** name → resourceVersion, as an informer's cache. */
  readonly state: Map<string, string>;
  /** Every resourceVersion an ADDED or MODIFIED event carried. */
  readonly seen: Set<string>;
  resourceVersion: string;
  rewatches: number;
  stop(): void;
}

describe.skipIf(skip)(`a rolling restart of three replicas behind nginx${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let redis: RedisServer;
  let idp: OidcProvider;
  let fake: FakeCluster;
  let lb: LoadBalancer;
  let base: string;
  let cookie: string;
  const ports: number[] = [];
  const replicas: ChildProcess[] = [];
  let env: Record<string, string>;
  let logs = '';
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  /** What went wrong for a client: a request that failed for good, a watch that broke or got an ERROR. */
  const failures: string[] = [];

  const replicaEnv = (i: number) => ({ ...env, PORT: String(ports[i]), REPLICA: `replica-${i}`, DRAIN_MS: String(DRAIN_MS) });

  beforeAll(async () => {
    redis = await startRedisServer();
    const lbPort = await freePort();
    base = `http://127.0.0.1:${lbPort}`;
    idp = await startOidcProvider({ redirectUris: [`${base}/auth/callback`], idTokenTtl: 600 });
    fake = await startFakeCluster({ name: 'roll', oidc: { issuerUrl: idp.issuer, clientId: idp.clientId } });
    for (let i = 0; i < 3; i++) ports.push(await freePort());
    env = { ...replicaEnvironment({ redisUrl: redis.url, idp, cluster: fake, base }) };
    replicas.push(...(await Promise.all([0, 1, 2].map((i) => startReplica(replicaEnv(i), (text) => (logs += text))))));
    lb = await startLoadBalancer(lbPort, ports.map((p) => `http://127.0.0.1:${p}`));
    const browser = new Browser();
    expect((await browser.login(`${base}/auth/login?returnTo=/`, 'alice')).callbackStatus).toBe(302);
    cookie = browser.cookieHeader(base);
  }, 60_000);

  afterAll(async () => {
    agent.destroy();
    await Promise.all(replicas.map((r) => stopReplica(r).catch(() => {})));
    await lb?.close();
    await Promise.all([fake?.close(), idp?.close(), redis?.close()]);
  });

  function send(method: string, path: string, body?: unknown): Promise<Answer> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const type = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
    return new Promise((resolve, reject) => {
      const req = request(`${base}${path}`, { method, agent, headers: { cookie, ...(text ? { 'content-type': type } : {}) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
      req.on('error', reject);
      req.end(text);
    });
  }

  /** A request as kubectl sends it: a 503 with Retry-After is asked again after the delay it says (at most 1 s here). */
  async function call(method: string, path: string, body?: unknown): Promise<Answer | undefined> {
    for (let attempt = 1; ; attempt++) {
      let answer: Answer;
      try {
        answer = await send(method, path, body);
      } catch (error) {
        failures.push(`${method} ${path}: ${(error as Error).message}`);
        return undefined;
      }
      const retryAfter = Number(answer.headers['retry-after']);
      if (answer.status === 503 && retryAfter > 0 && attempt < MAX_ATTEMPTS) {
        await sleep(Math.min(retryAfter, 1) * 1000);
        continue;
      }
      if (answer.status >= 300) {
        failures.push(`${method} ${path}: ${answer.status} ${answer.body.slice(0, 200)}`);
        return undefined;
      }
      return answer;
    }
  }

  /**
   * An informer: lists, then watches from the list's resourceVersion; when the watch ends cleanly
   * (a drain, or the cluster), it watches again from the last resourceVersion it saw.
   */
  async function startWatcher(): Promise<Watcher> {
    const list = await call('GET', CONFIGMAPS);
    if (!list) throw new Error('the first list failed');
    const parsed = JSON.parse(list.body) as { metadata: { resourceVersion: string }; items: { metadata: { name: string; resourceVersion: string } }[] };
    let stopped = false;
    let current: { destroy(): void } | undefined;
    const watcher: Watcher = {
      state: new Map(parsed.items.map((o) => [o.metadata.name, o.metadata.resourceVersion])),
      seen: new Set(),
      resourceVersion: parsed.metadata.resourceVersion,
      rewatches: 0,
      stop() {
        stopped = true;
        current?.destroy();
      },
    };
    const watchOnce = () =>
      new Promise<void>((resolve) => {
        const path = `${CONFIGMAPS}?watch=1&allowWatchBookmarks=true&resourceVersion=${watcher.resourceVersion}`;
        const req = request(`${base}${path}`, { agent, headers: { cookie } }, (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            const retryAfter = Number(res.headers['retry-after']);
            if (!(res.statusCode === 503 && retryAfter > 0)) failures.push(`watch: ${res.statusCode}`);
            res.on('end', () => void sleep(Math.min(retryAfter || 1, 1) * 1000).then(() => resolve()));
            return;
          }
          let buffered = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffered += chunk;
            for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
              const event = JSON.parse(buffered.slice(0, nl)) as { type: string; object: { metadata: { name: string; resourceVersion: string } } };
              buffered = buffered.slice(nl + 1);
              const { name, resourceVersion } = event.object.metadata ?? {};
              if (event.type === 'ERROR') failures.push(`watch ERROR event: ${JSON.stringify(event.object).slice(0, 200)}`);
              else if (event.type === 'DELETED') watcher.state.delete(name);
              else if (event.type === 'ADDED' || event.type === 'MODIFIED') {
                watcher.state.set(name, resourceVersion);
                watcher.seen.add(resourceVersion);
              }
              if (resourceVersion && event.type !== 'ERROR') watcher.resourceVersion = resourceVersion;
            }
          });
          res.on('end', () => {
            if (!res.complete && !stopped) failures.push('a watch broke off without its clean end');
            resolve();
          });
          res.on('error', () => resolve());
          res.on('aborted', () => {
            if (!stopped) failures.push('a watch was aborted');
          });
        });
        current = req;
        req.on('error', (error) => {
          if (!stopped) failures.push(`watch: ${error.message}`);
          resolve();
        });
        req.end();
      });
    void (async () => {
      // Bounded: a watch that ended at once each time would otherwise spin.
      for (let round = 0; round < 200 && !stopped; round++) {
        await watchOnce();
        if (stopped) break;
        watcher.rewatches++;
        // Re-watching a second later (a client's backoff, a busy browser tab): the writes meanwhile
        // must come from the resourceVersion it resumes at, not be lost in the gap. (Shorter, the
        // gap would mostly fall while the writer waits out its own 503's Retry-After.)
        await sleep(1_000);
      }
    })();
    return watcher;
  }

  it('loses no request and no watch event while every replica drains and restarts in turn', async () => {
    const watchers = await Promise.all(Array.from({ length: WATCHERS }, () => startWatcher()));
    // Every watch open (two per replica, round-robin) before the writes begin.
    await expect.poll(() => fake.activeStreams('watch'), { timeout: 10_000 }).toBe(WATCHERS);

    let running = true;
    const written = new Set<string>();
    // Each object is created, changed twice, and (three times in four) deleted, 15 ms apart: a
    // watcher that lost its place would miss a version or a deletion, not just lag behind.
    const writer = (async () => {
      for (let k = 0; running && k < 2_000; k++) {
        const path = `${CONFIGMAPS}/cm-${k}`;
        const steps: [string, string, unknown][] = [
          ['POST', CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${k}` }, data: { step: '0' } }],
          ['PATCH', path, { data: { step: '1' } }],
          ['PATCH', path, { data: { step: '2' } }],
          ...(k % 4 ? [['DELETE', path, undefined] as [string, string, unknown]] : []),
        ];
        for (const [method, target, body] of steps) {
          const answer = await call(method, target, body);
          if (!answer) break;
          if (method !== 'DELETE') written.add((JSON.parse(answer.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion);
          await sleep(15);
        }
      }
    })();
    const readers = Array.from({ length: READERS }, async () => {
      for (let n = 0; running && n < 5_000; n++) {
        await call('GET', n % 2 ? CONFIGMAPS : '/clusters/prod/version');
        await sleep(10);
      }
    });

    await sleep(500);
    for (let i = 0; i < 3; i++) {
      const stopped = Date.now();
      expect(await stopReplica(replicas[i]!, 'SIGTERM')).toBe(0);
      // Drained within its grace (plus the time to release what it held), not killed.
      expect(Date.now() - stopped).toBeLessThan(DRAIN_MS + 3_000);
      replicas[i] = await startReplica(replicaEnv(i), (text) => (logs += text));
      await sleep(300);
    }
    await sleep(500);
    running = false;
    await Promise.all([writer, ...readers]);

    // Every watcher catches up with the cluster: the same objects at the same resourceVersions.
    const truth = () =>
      new Map(
        fake.listObjects('v1', 'ConfigMap', 'default').map((o) => {
          const { name, resourceVersion } = o.metadata as { name: string; resourceVersion: string };
          return [name, resourceVersion];
        }),
      );
    await expect
      .poll(() => watchers.every((w) => JSON.stringify([...w.state].sort()) === JSON.stringify([...truth()].sort())), { timeout: 10_000 })
      .toBe(true);
    for (const w of watchers) w.stop();

    expect(failures).toEqual([]);
    expect(logs.match(/^drained$/gm)).toHaveLength(3);
    expect(written.size).toBeGreaterThan(50);
    for (const w of watchers) {
      // Each was ended by a drain at least once (its replica restarted) and resumed without a gap.
      expect(w.rewatches).toBeGreaterThan(0);
      expect([...written].filter((rv) => !w.seen.has(rv))).toEqual([]);
    }
  }, 90_000);

  it('never wrote a token to its logs', () => {
    expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
    expect(logs).not.toContain(env.TOKEN_KEY);
  });
});
