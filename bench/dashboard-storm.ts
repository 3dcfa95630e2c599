/**
 * The dashboard storm: DASHBOARDS simulated dashboards open the same page at once through one
 * createClusterProxy (undici, authMode 'cluster'), with `share` off and then on, each in a fresh
 * proxy process; the upstream (bench/storm-cluster.ts) and this load generator have their own. A
 * page is what a dashboard fetches on open: the discovery paths, a pods list, an events list and a
 * pods watch (from no resourceVersion, so its first event is the first pod's synthetic ADDED).
 * Figures: the requests and bytes that reached the cluster, its watches, and the time until every
 * dashboard had its first watch event (and the median dashboard).
 *
 * `npm run bench` runs it after the forwarding figures (BENCH_DASHBOARDS, default 200;
 * BENCH_STORM_LATENCY_MS, default 0, delays the upstream each way); alone:
 * `node --conditions=kcp-source bench/dashboard-storm.ts` prints its section of BENCHMARKS.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { createInterface, type Interface } from 'node:readline';
import type { ShareOptions } from 'kube-cluster-proxy';

/**
 * Whether the storm passes `share.watches`: flip to `true` once shared watches are merged (the
 * option is accepted either way; before they exist it shares nothing).
 */
export const SHARE_WATCHES = false;

const DISCOVERY = ['/api', '/apis', '/api/v1', '/apis/apps/v1', '/apis/events.k8s.io/v1', '/version', '/openapi/v3'];
const READS = ['/api/v1/namespaces/default/pods', '/apis/events.k8s.io/v1/namespaces/default/events'];
const WATCH = '/api/v1/namespaces/default/pods?watch=1';
/** Connections per dashboard, as a browser allows per host over HTTP/1.1. */
const BROWSER_CONNECTIONS = 6;
/** Bound on one storm: a setup that leaves a dashboard without its page by then fails the run. */
const STORM_TIMEOUT_MS = 120_000;
const LATENCY_MS = Number(process.env.BENCH_STORM_LATENCY_MS ?? 0);

export interface StormResult {
  name: string;
  /** Requests and watches the cluster received. */
  requests: number;
  watches: number;
  /** Bytes the cluster sent to the proxy, and received from it (TLS included). */
  bytesFromCluster: number;
  bytesToCluster: number;
  /** Milliseconds from the start until the last dashboard, and the median one, had its first watch event. */
  lastFirstEventMs: number;
  medianFirstEventMs: number;
  /** Responses other than 200 the dashboards got. */
  failures: number;
}

interface Upstream {
  url: string;
  ca: string;
  token: string;
  command(line: string): Promise<Record<string, unknown>>;
}

const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((child) => child.kill('SIGTERM')));

function node(script: string, env: Record<string, string>): { child: ChildProcess; lines: Interface } {
  const child = spawn(process.execPath, ['--conditions=kcp-source', new URL(script, import.meta.url).pathname], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  return { child, lines: createInterface({ input: child.stdout }) };
}

function nextLine(lines: Interface, child: ChildProcess): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`a bench process exited with ${code}`));
    child.once('exit', onExit);
    lines.once('line', (line) => {
      child.off('exit', onExit);
      resolve(JSON.parse(line) as Record<string, unknown>);
    });
  });
}

async function startUpstream(): Promise<Upstream> {
  const { child, lines } = node('./storm-cluster.ts', {});
  const first = (await nextLine(lines, child)) as { url: string; ca: string; token: string };
  let queue = Promise.resolve<Record<string, unknown>>({});
  return {
    ...first,
    command(line) {
      queue = queue.then(() => {
        const answer = nextLine(lines, child);
        child.stdin!.write(`${line}\n`);
        return answer;
      });
      return queue;
    },
  };
}

async function startProxy(upstream: Upstream, share: ShareOptions | undefined): Promise<{ url: string; child: ChildProcess }> {
  const fake = { url: upstream.url, ca: upstream.ca, token: upstream.token, firehose: 'http://127.0.0.1:9' };
  const { child, lines } = node('./proxies.ts', { BENCH_FAKE: JSON.stringify(fake), BENCH_SETUP: 'undici-cluster', ...(share ? { BENCH_SHARE: JSON.stringify(share) } : {}) });
  const { url } = (await nextLine(lines, child)) as { url: string };
  return { url, child };
}

/** One dashboard's page: resolves with the milliseconds from `start` to its first watch event, and its failed responses. */
function loadPage(base: string, start: number, watches: Set<() => void>): Promise<{ firstEventMs: number; failures: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: BROWSER_CONNECTIONS });
  let failures = 0;
  const get = (path: string) =>
    new Promise<void>((resolve, reject) => {
      request(`${base}${path}`, { agent, headers: { accept: 'application/json' } }, (res) => {
        if (res.statusCode !== 200) failures++;
        res.resume();
        res.on('end', resolve);
      })
        .on('error', reject)
        .end();
    });
  const firstEvent = new Promise<number>((resolve, reject) => {
    const req = request(`${base}${WATCH}`, { agent }, (res) => {
      if (res.statusCode !== 200) failures++;
      let text = '';
      const onData = (chunk: Buffer) => {
        text += chunk.toString();
        if (!text.includes('\n')) return;
        res.off('data', onData);
        res.resume();
        resolve(performance.now() - start);
      };
      res.on('data', onData);
      res.on('error', () => {});
    });
    req.on('error', reject);
    req.end();
    watches.add(() => {
      req.destroy();
      agent.destroy();
    });
  });
  return Promise.all([firstEvent, ...[...DISCOVERY, ...READS].map(get)]).then(([firstEventMs]) => ({ firstEventMs, failures }));
}

async function storm(name: string, upstream: Upstream, share: ShareOptions | undefined, dashboards: number): Promise<StormResult> {
  const proxy = await startProxy(upstream, share);
  await upstream.command('reset');
  const base = `${proxy.url.replace(/\/bench$/, '')}/bench`;
  const watches = new Set<() => void>();
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const pages = await Promise.race([
    Promise.all(Array.from({ length: dashboards }, () => loadPage(base, start, watches))),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${name}: the dashboards did not load within ${STORM_TIMEOUT_MS} ms`)), STORM_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  const { stats } = (await upstream.command('stats')) as { stats: { requests: number; watches: number; fromCluster: number; toCluster: number } };
  for (const close of watches) close();
  proxy.child.kill('SIGTERM');
  const times = pages.map((p) => p.firstEventMs).sort((a, b) => a - b);
  return {
    name,
    requests: stats.requests,
    watches: stats.watches,
    bytesFromCluster: stats.fromCluster,
    bytesToCluster: stats.toCluster,
    lastFirstEventMs: times.at(-1)!,
    medianFirstEventMs: times[Math.floor(times.length / 2)]!,
    failures: pages.reduce((n, p) => n + p.failures, 0),
  };
}

/** The share option the storm turns on. */
export function stormShare(): ShareOptions {
  return { discovery: true, reads: true, ...(SHARE_WATCHES ? { watches: true } : {}) };
}

/** Runs the storm with share off, then on; each in a fresh proxy process, against one upstream process. */
export async function dashboardStorm(dashboards: number): Promise<StormResult[]> {
  const upstream = await startUpstream();
  // A few warm-up pages: the upstream's JIT, before either setup is measured.
  await storm('warm-up', upstream, undefined, 5);
  const results: StormResult[] = [];
  results.push(await storm('share off', upstream, undefined, dashboards));
  results.push(await storm(`share on (${Object.keys(stormShare()).join(', ')})`, upstream, stormShare(), dashboards));
  return results;
}

/** The section of BENCHMARKS.md on the storm. */
export function stormReport(results: StormResult[], dashboards: number): string {
  const [off, on] = results as [StormResult, StormResult];
  const KiB = 1024;
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${r.requests} | ${r.watches} | ${(r.bytesFromCluster / KiB).toFixed(0)} | ${(r.bytesToCluster / KiB).toFixed(0)} | ${r.medianFirstEventMs.toFixed(0)} | ${r.lastFirstEventMs.toFixed(0)} | ${r.failures} |`,
  );
  const fewer = off.requests / on.requests;
  return `## Dashboard storm

${dashboards} dashboards open the same page at once through createClusterProxy (undici,
authMode 'cluster'): ${DISCOVERY.map((p) => `\`${p}\``).join(', ')}, ${READS.map((p) => `\`${p}\``).join(' and ')},
and \`${WATCH}\`; ${BROWSER_CONNECTIONS} connections per dashboard, as a browser has. The
upstream counts what reached the cluster (bytes through a relay in front of it, TLS included${LATENCY_MS > 0 ? `, which delays every chunk by ${LATENCY_MS} ms each way` : ''});
"first watch event" is from the start of the storm until a dashboard's watch delivered its first
event. \`share.watches\` is ${SHARE_WATCHES ? 'on' : 'off: shared watches are not merged yet, so every dashboard keeps its own watch'}.

| setup | upstream requests | upstream watches | KiB from the cluster | KiB to the cluster | first watch event, median ms | first watch event, last ms | non-200 |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

| goal | measured | wanted | |
| --- | ---: | ---: | --- |
| fewer upstream requests with sharing on | ${fewer.toFixed(1)}x | >= 50x | ${fewer >= 50 ? 'met' : '**missed**'} |
| upstream watches with sharing on | ${on.watches} | 1 | ${on.watches <= 1 ? 'met' : '**missed**'} |
| last dashboard's first watch event, on vs off | ${(on.lastFirstEventMs / off.lastFirstEventMs).toFixed(2)}x | <= 1x | ${on.lastFirstEventMs <= off.lastFirstEventMs ? 'met' : '**missed**'} |
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dashboards = Number(process.env.BENCH_DASHBOARDS ?? 200);
  const results = await dashboardStorm(dashboards);
  console.log(stormReport(results, dashboards));
  process.exit(0);
}
