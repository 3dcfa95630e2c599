/**
 * `npm run bench`: one run, every setup side by side on the same upstreams, each party in its own
 * process (upstreams, each proxy, the load generator), rounds alternating between setups, medians:
 * - direct: the client talks TLS to the fake API server itself;
 * - bare http-proxy-middleware v4, fixed target, a static Authorization header, with its default
 *   plugins and without them (ejectPlugins); the goals compare with the faster of the two;
 * - createClusterProxy with each engine, in 'cluster' mode and in 'user' mode (token in the header);
 *   with undici in 'cluster' mode also with metrics, audit and policy on (bench/observed.ts);
 * - createClusterProxy reaching the fake over HTTP/2 (`http2: true`), and a minimal undici forwarder
 *   (no pipeline at all, HTTP only: the floor under the undici engine);
 * - kubectl proxy, when kubectl is on the PATH.
 * Figures: requests/s and p50/p99 of a small JSON GET (wrk when on the PATH, else autocannon), the proxy's CPU per request,
 * exec stream MiB/s each way (WebSocket); for createClusterProxy alone, RSS per idle upgraded
 * connection and RSS growth while a slow reader follows a large log; then the dashboard storm
 * (bench/dashboard-storm.ts: upstream requests and bytes with `share` off and on). Writes BENCHMARKS.md.
 *
 * Options (environment): BENCH_SECONDS (per round, default 5), BENCH_ROUNDS (default 3),
 * BENCH_CONNECTIONS (default 32), BENCH_STREAM_MB (default 64), BENCH_IDLE (idle sessions, default
 * 10000, capped by the open-files limit: the proxy holds two descriptors per session), BENCH_LOG_MB
 * and BENCH_LOG_RATE (the followed log: size and reader MiB/s, default 64 at 1, extrapolated to
 * 1 GiB), BENCH_LOG_FULL=1 (the whole 1 GiB at 1 MiB/s, about 17 minutes), BENCH_DASHBOARDS (the
 * storm's dashboards, default 200), BENCH_PROFILE=1 (the proxies write --cpu-prof profiles to
 * bench/profiles/).
 * BENCH_ONLY (comma-separated setup keys: direct, bare, bare-ejected, undici-cluster, undici-user,
 * undici-cluster-observed, http-proxy-middleware-cluster, http-proxy-middleware-user, undici-cluster-http2, floor,
 * kubectl) and BENCH_PARTS (of http,
 * stream, idle, log, storm) narrow a run for tuning one thing; such a run prints its figures and leaves
 * BENCHMARKS.md alone, which only a full run writes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { dashboardStorm, stormReport } from './dashboard-storm.ts';
import { cpuMicros, idleSessions, load, LOADER, POD_PATH, slowLog, streamIn, streamOut, type HttpResult } from './measure.ts';
import { median, node, profileArgs, started, startUpstreams } from './processes.ts';
import { report, type Row } from './report.ts';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SECONDS = env('BENCH_SECONDS', 5);
const ROUNDS = env('BENCH_ROUNDS', 3);
const CONNECTIONS = env('BENCH_CONNECTIONS', 32);
const STREAM_BYTES = env('BENCH_STREAM_MB', 64) * 1024 * 1024;
const LOG_FULL = process.env.BENCH_LOG_FULL === '1';
const LOG_MB = LOG_FULL ? 1024 : env('BENCH_LOG_MB', 64);
const LOG_RATE = LOG_FULL ? 1 : env('BENCH_LOG_RATE', 1);
/** The hard open-files limit, which Node raises its soft limit to, for the proxy and for this runner. */
const FILES = Number(spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim()) || 1024;
// Two descriptors per session in the proxy (client and cluster sockets), and some to spare.
const IDLE_WANTED = env('BENCH_IDLE', 10_000);
const IDLE = Math.min(IDLE_WANTED, Math.floor((FILES - 200) / 2));
const PROFILE = process.env.BENCH_PROFILE === '1';
const DASHBOARDS = env('BENCH_DASHBOARDS', 200);
const ONLY = process.env.BENCH_ONLY?.split(',');
const PARTS = new Set(process.env.BENCH_PARTS?.split(',') ?? ['http', 'stream', 'idle', 'log', 'storm']);
const FULL = ONLY === undefined && PARTS.size === 5;
const wanted = (key: string) => ONLY === undefined || ONLY.includes(key);

const fake = await startUpstreams();
const auth = { authorization: `Bearer ${fake.token}` };

interface Setup {
  name: string;
  url: string;
  headers: Record<string, string>;
  pid: number | undefined;
  ws: { ca?: string; headers?: Record<string, string> };
}

async function proxySetup(name: string, setup: string, headers: Record<string, string>): Promise<Setup | undefined> {
  if (!wanted(setup) && !(setup === 'undici-cluster' && (PARTS.has('idle') || PARTS.has('log')))) return undefined;
  const profile = PROFILE ? profileArgs(setup) : [];
  const child = node('./proxies.ts', { BENCH_FAKE: JSON.stringify(fake), BENCH_SETUP: setup }, ['--expose-gc', ...profile]);
  const { url } = await started(child, (line) => JSON.parse(line) as { url: string });
  return { name, url, headers, pid: child.pid, ws: { headers } };
}

async function kubectlSetup(): Promise<Setup | undefined> {
  if (!wanted('kubectl')) return undefined;
  if (spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'kcp-bench-'));
  const kubeconfig = join(dir, 'config');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server: fake.url, 'certificate-authority-data': Buffer.from(fake.ca).toString('base64') } }],
      users: [{ name: 'bench', user: { token: fake.token } }],
      contexts: [{ name: 'bench', context: { cluster: 'fake', user: 'bench' } }],
      'current-context': 'bench',
    }),
  );
  // The filter refuses exec by default; the benchmark streams through exec.
  const child = spawn('kubectl', ['proxy', '--port=0', '--address=127.0.0.1', '--disable-filter=true', `--kubeconfig=${kubeconfig}`], { stdio: ['ignore', 'pipe', 'ignore'] });
  const port = await started(child, (line) => /Starting to serve on [\d.]+:(\d+)/.exec(line)?.[1]);
  return { name: 'kubectl proxy', url: `http://127.0.0.1:${port}`, headers: {}, pid: child.pid, ws: {} };
}

const all = [
  wanted('direct') ? { name: 'direct (TLS to the fake API server)', url: fake.url, headers: auth, pid: undefined, ws: { ca: fake.ca, headers: auth } } : undefined,
  await proxySetup('bare http-proxy-middleware v4', 'bare', {}),
  await proxySetup('bare http-proxy-middleware v4, ejectPlugins', 'bare-ejected', {}),
  await proxySetup("createClusterProxy, undici, 'cluster'", 'undici-cluster', {}),
  await proxySetup("createClusterProxy, undici, 'user'", 'undici-user', auth),
  await proxySetup("createClusterProxy, undici, 'cluster', metrics + audit + policy", 'undici-cluster-observed', {}),
  await proxySetup("createClusterProxy, http-proxy-middleware, 'cluster'", 'http-proxy-middleware-cluster', {}),
  await proxySetup("createClusterProxy, http-proxy-middleware, 'user'", 'http-proxy-middleware-user', auth),
  await proxySetup("createClusterProxy, undici, 'cluster', http2", 'undici-cluster-http2', {}),
  await proxySetup('minimal undici forwarder (the floor)', 'floor', {}),
  await kubectlSetup(),
];
if (wanted('kubectl') && all.at(-1) === undefined) console.log('kubectl is not on the PATH: no kubectl proxy setup');
const ours = all[3];
const setups = all.filter((s): s is Setup => s !== undefined && (ONLY === undefined || s !== ours || wanted('undici-cluster')));

const observedSetup = setups.find((s) => s.name.endsWith('metrics + audit + policy'));
const floorSetup = setups.find((s) => s.name.startsWith('minimal undici forwarder'));
const samples = new Map<Setup, { http: HttpResult[]; out: number[]; in: number[]; cpuOut: number[]; cpuIn: number[] }>(
  setups.map((s) => [s, { http: [], out: [], in: [], cpuOut: [], cpuIn: [] }]),
);
/** The proxy's CPU ms per MiB streamed (`undefined` for direct). */
const cpuPerMiB = (pid: number | undefined, since: number) => (pid === undefined ? undefined : (cpuMicros(pid) - since) / 1000 / (STREAM_BYTES / 2 ** 20));
for (let round = 1; round <= ROUNDS; round++) {
  // Alternating: each round visits every setup, in a rotated order, so that drift (thermal, other
  // sessions on the machine) spreads over all of them.
  const order = setups.map((_, i) => setups[(i + round - 1) % setups.length]!);
  for (const setup of order) {
    const target = `${setup.url}${POD_PATH}`;
    const sample = samples.get(setup)!;
    if (PARTS.has('http')) {
      if (round === 1) await load(target, setup.headers, 2, CONNECTIONS, undefined); // warm-up: connections, TLS sessions, JIT
      sample.http.push(await load(target, setup.headers, SECONDS, CONNECTIONS, setup.pid));
      const h = sample.http.at(-1)!;
      console.log(`round ${round}, ${setup.name}: ${h.rps.toFixed(0)} req/s, p99 ${h.p99} ms, ${h.cpuPerRequest?.toFixed(0) ?? '-'} µs CPU/req`);
    }
    // The observed setup's policy refuses exec outside the oncall group, as a shared dashboard would: it measures requests only.
    if (PARTS.has('stream') && setup !== observedSetup && setup !== floorSetup) {
      let since = setup.pid === undefined ? 0 : cpuMicros(setup.pid);
      sample.out.push(await streamOut(setup.url, STREAM_BYTES, setup.ws));
      const cpuOut = cpuPerMiB(setup.pid, since);
      since = setup.pid === undefined ? 0 : cpuMicros(setup.pid);
      sample.in.push(await streamIn(setup.url, STREAM_BYTES, setup.ws));
      const cpuIn = cpuPerMiB(setup.pid, since);
      if (cpuOut !== undefined && cpuIn !== undefined) {
        sample.cpuOut.push(cpuOut);
        sample.cpuIn.push(cpuIn);
      }
      console.log(`round ${round}, ${setup.name}: exec ${sample.out.at(-1)!.toFixed(0)} / ${sample.in.at(-1)!.toFixed(0)} MiB/s, ${cpuOut?.toFixed(2) ?? '-'} / ${cpuIn?.toFixed(2) ?? '-'} ms CPU/MiB`);
    }
  }
}

const rows: Row[] = setups.map((setup) => {
  const s = samples.get(setup)!;
  const cpu = s.http.map((h) => h.cpuPerRequest).filter((c): c is number => c !== undefined);
  return {
    name: setup.name,
    rps: median(s.http.map((h) => h.rps)),
    p50: median(s.http.map((h) => h.p50)),
    p99: median(s.http.map((h) => h.p99)),
    failures: s.http.reduce((n, h) => n + h.errors + h.non2xx, 0),
    cpu: cpu.length > 0 ? median(cpu) : undefined,
    out: median(s.out),
    in: median(s.in),
    cpuOut: s.cpuOut.length > 0 ? median(s.cpuOut) : undefined,
    cpuIn: s.cpuIn.length > 0 ? median(s.cpuIn) : undefined,
  };
});

if (!FULL) for (const r of rows) console.log(JSON.stringify(r));
let idle = { perSession: NaN, opened: 0 };
if (IDLE < IDLE_WANTED) console.log(`open-files limit ${FILES}: ${IDLE} idle sessions instead of ${IDLE_WANTED}`);
if (ours && PARTS.has('idle')) {
  console.log(`opening ${IDLE} idle exec sessions through ${ours.name}`);
  idle = await idleSessions(ours.url, IDLE, ours.pid!);
  console.log(`${idle.opened} idle sessions: ${(idle.perSession / 1024).toFixed(1)} KiB each`);
}
let log = { growth: NaN, seconds: NaN, slope: NaN };
if (ours && PARTS.has('log')) {
  console.log(`following a ${LOG_MB} MiB log at ${LOG_RATE} MiB/s through ${ours.name}`);
  log = await slowLog(ours.url.replace(/bench$/, 'firehose'), LOG_MB, LOG_RATE, ours.pid!);
  console.log(`log: RSS grew by at most ${(log.growth / 2 ** 20).toFixed(1)} MiB in ${log.seconds.toFixed(0)} s, then ${(log.slope / 1024).toFixed(1)} KiB per MiB`);
}
let storm: Awaited<ReturnType<typeof dashboardStorm>> | undefined;
if (PARTS.has('storm')) {
  console.log(`the dashboard storm: ${DASHBOARDS} dashboards, share off and on`);
  storm = await dashboardStorm(DASHBOARDS);
  if (!FULL) console.log(stormReport(storm, DASHBOARDS));
}
if (!FULL || !storm) process.exit(0);

const text = `${report({
  rows,
  idle: { ...idle, wanted: IDLE_WANTED, files: FILES },
  log: { ...log, mib: LOG_MB, rate: LOG_RATE },
  machine: `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  method: { seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, streamMiB: STREAM_BYTES / 1024 / 1024, loader: LOADER },
})}\n${stormReport(storm, DASHBOARDS)}`;
writeFileSync(new URL('../BENCHMARKS.md', import.meta.url), text);
console.log(`\n${text}\nwritten to BENCHMARKS.md`);
process.exit(0);
