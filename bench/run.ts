/**
 * `npm run bench`: one run, three setups side by side on the same fake cluster:
 * - direct: the client talks TLS to the fake API server itself;
 * - http-proxy-middleware: bare, fixed target, a static Authorization header;
 * - kube-cluster-proxy: createClusterProxy, authMode 'cluster', TLS to the cluster.
 * Measures requests/s and p50/p99 latency of a small JSON GET under concurrency (autocannon), and
 * the throughput of an exec stream over WebSocket. Writes BENCHMARKS.md.
 *
 * Options (environment): BENCH_SECONDS (default 10), BENCH_CONNECTIONS (default 32),
 * BENCH_STREAM_MB (default 64).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import WebSocket from 'ws';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const STREAM_BYTES = Number(process.env.BENCH_STREAM_MB ?? 64) * 1024 * 1024;
const POD_PATH = '/api/v1/namespaces/default/pods/web-bench-1';

const children: ChildProcess[] = [];

/** Starts a bench script in its own process and returns the JSON line it prints when ready. */
async function start<T>(script: string, env: Record<string, string> = {}): Promise<T> {
  const child = spawn(process.execPath, ['--conditions=kcp-source', new URL(script, import.meta.url).pathname], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  return new Promise<T>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line) as T));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

const fake = await start<{ url: string; ca: string; token: string }>('./fake-cluster.ts');
const proxies = await start<{ bare: string; bareEjected: string; ours: string; cpu: string }>('./proxies.ts', { BENCH_FAKE: JSON.stringify(fake) });

/** CPU time (user + system, µs) the proxies' process has used so far. */
async function proxiesCpu(): Promise<number> {
  const usage = (await (await fetch(proxies.cpu)).json()) as { user: number; system: number };
  return usage.user + usage.system;
}
const servers = { fake: fake.url, ca: fake.ca, token: fake.token, ...proxies };

interface HttpResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** CPU µs the proxies' process spent per request; `undefined` for the direct setup. */
  cpuPerRequest: number | undefined;
}

async function load(url: string, headers: Record<string, string>, seconds: number, proxied: boolean): Promise<HttpResult> {
  const before = proxied ? await proxiesCpu() : 0;
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, headers, pipelining: 1 });
  const cpu = proxied ? (await proxiesCpu()) - before : undefined;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    cpuPerRequest: cpu === undefined ? undefined : cpu / result.requests.total,
  };
}

/** MiB/s of stdout from `bytes N` over an exec WebSocket; the best of three runs. */
async function streamThroughput(base: string, options: WebSocket.ClientOptions): Promise<number> {
  const url = `${base.replace(/^http/, 'ws')}${POD_PATH}/exec?command=bytes&command=${STREAM_BYTES}&stdout=true`;
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) {
    runs.push(
      await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(url, ['v4.channel.k8s.io'], options);
        let received = 0;
        let started = 0;
        ws.on('open', () => (started = performance.now()));
        ws.on('message', (data: Buffer) => {
          if (data[0] === 1) received += data.length - 1;
        });
        ws.on('close', () => {
          if (received !== STREAM_BYTES) reject(new Error(`received ${received} of ${STREAM_BYTES} bytes from ${base}`));
          else resolve(received / 1024 / 1024 / ((performance.now() - started) / 1000));
        });
        ws.on('error', reject);
      }),
    );
  }
  return Math.max(...runs);
}

const auth = { authorization: `Bearer ${servers.token}` };
const setups = [
  { name: 'direct (TLS to the fake API server)', url: servers.fake, headers: auth, ws: { ca: servers.ca, headers: auth }, proxied: false },
  { name: 'bare http-proxy-middleware, default plugins', url: servers.bare, headers: {}, ws: {}, proxied: true },
  { name: 'bare http-proxy-middleware, ejectPlugins', url: servers.bareEjected, headers: {}, ws: {}, proxied: true },
  { name: 'kube-cluster-proxy (cluster mode, TLS upstream)', url: servers.ours, headers: {}, ws: {}, proxied: true },
];

const rows: { name: string; http: HttpResult; mibps: number }[] = [];
try {
  for (const setup of setups) {
    await load(`${setup.url}${POD_PATH}`, setup.headers, 2, setup.proxied); // warm-up: connections, TLS sessions, JIT
    const http = await load(`${setup.url}${POD_PATH}`, setup.headers, SECONDS, setup.proxied);
    const mibps = await streamThroughput(setup.url, setup.ws);
    rows.push({ name: setup.name, http, mibps });
    console.log(`${setup.name}: ${http.rps.toFixed(0)} req/s, p50 ${http.p50} ms, p99 ${http.p99} ms, ${mibps.toFixed(0)} MiB/s exec stream`);
  }
} finally {
  for (const child of children) child.kill('SIGTERM');
}

type Row = (typeof rows)[number];
const [direct, bare, bareEjected, ours] = rows as [Row, Row, Row, Row];
const fastestBare = bare.http.rps > bareEjected.http.rps ? bare : bareEjected;
const ratio = (a: number, b: number) => (a / b).toFixed(2);
const table = [
  '| setup | requests/s | p50 ms | p99 ms | errors / non-2xx | proxy CPU µs/request | exec stream MiB/s |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.http.rps.toFixed(0)} | ${r.http.p50} | ${r.http.p99} | ${r.http.errors} / ${r.http.non2xx} | ${r.http.cpuPerRequest === undefined ? '–' : r.http.cpuPerRequest.toFixed(0)} | ${r.mibps.toFixed(0)} |`,
  ),
].join('\n');
const summary = [
  `- kube-cluster-proxy / the faster bare http-proxy-middleware, requests/s: **${ratio(ours.http.rps, fastestBare.http.rps)}x** (goal >= 0.85x)`,
  `- kube-cluster-proxy / the faster bare http-proxy-middleware, proxy CPU per request: **${ratio(ours.http.cpuPerRequest!, fastestBare.http.cpuPerRequest!)}x** (what our pipeline adds)`,
  `- kube-cluster-proxy / direct, exec stream throughput: **${ratio(ours.mibps, direct.mibps)}x** (goal >= 0.9x)`,
].join('\n');
const report = `# Benchmarks

Produced by \`npm run bench\` (bench/run.ts) on ${new Date().toISOString().slice(0, 10)}, Node ${process.version},
${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB.
The fake cluster, the two proxies and the load generator (autocannon, ${CONNECTIONS} connections,
${SECONDS} s after a 2 s warm-up; \`GET ${POD_PATH}\`, a ~1 KB JSON pod) run in three processes, on loopback.
The exec stream is \`bytes ${STREAM_BYTES}\` over \`v4.channel.k8s.io\`, best of three runs.

${table}

${summary}

The proxies serve plain HTTP to the client and speak TLS to the fake cluster; "direct" pays the
client-side TLS itself. On 2 cores the load generator, the proxies and the fake cluster compete for
CPU, so the ratios matter more than the absolute figures, and repeated runs vary by about ±10% in
requests/s. "Proxy CPU µs/request" (user + system time of the proxies' process divided by the
requests served) is the steadier measure of what each proxy costs.
`;
writeFileSync(new URL('../BENCHMARKS.md', import.meta.url), report);
console.log(`\n${table}\n\n${summary}\n\nwritten to BENCHMARKS.md`);
