/**
 * What metrics, audit and policy cost a proxied request: requests/s and proxy CPU per request of
 * a small JSON GET through createClusterProxy (undici, 'cluster') with all three on (bench/observed.ts)
 * next to the same proxy with none of them. Run: `node --conditions=kcp-source bench/observability.ts`
 * (`npm run bench` measures the same two setups among the others). Every party has its own
 * process: the upstreams, each proxy, and this one, the load generator. Rounds alternate between
 * the two (which goes first swaps each round); the figures are medians.
 *
 * Options (environment): BENCH_SECONDS (per round, default 5), BENCH_ROUNDS (default 5),
 * BENCH_CONNECTIONS (default 32), BENCH_PARTS=1 (also a proxy with each of the three alone), BENCH_PROFILE=1 (each proxy writes a --cpu-prof profile to
 * bench/profiles/, `observability-off.cpuprofile` and `observability-on.cpuprofile`).
 */
import { load, POD_PATH, type HttpResult } from './measure.ts';
import { median, node, profileArgs, started, startUpstreams } from './processes.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const PROFILE = process.env.BENCH_PROFILE === '1';

const fake = await startUpstreams();

async function proxy(name: string, setup: string): Promise<{ name: string; url: string; pid: number; samples: HttpResult[] }> {
  const child = node('./proxies.ts', { BENCH_FAKE: JSON.stringify(fake), BENCH_SETUP: setup }, PROFILE ? profileArgs(name) : []);
  const { url } = await started(child, (line) => JSON.parse(line) as { url: string });
  return { name, url: `${url}${POD_PATH}`, pid: child.pid!, samples: [] };
}

// BENCH_PARTS=1 adds a proxy with each of the three alone, to tell their costs apart.
const PARTS = process.env.BENCH_PARTS === '1' ? ['metrics', 'audit', 'policy'] : [];
const parties = [
  await proxy('observability-off', 'undici-cluster'),
  await proxy('observability-on', 'undici-cluster-observed'),
  ...(await Promise.all(PARTS.map((part) => proxy(`observability-${part}`, `undici-cluster-observed:${part}`)))),
];
for (const party of parties) await load(party.url, {}, 2, CONNECTIONS, undefined); // warm-up: connections, TLS sessions, JIT
for (let round = 0; round < ROUNDS; round++) {
  for (const party of round % 2 === 0 ? parties : [...parties].reverse()) {
    const result = await load(party.url, {}, SECONDS, CONNECTIONS, party.pid);
    if (result.errors > 0 || result.non2xx > 0) throw new Error(`${party.name}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
    party.samples.push(result);
    console.log(`round ${round + 1}, ${party.name}: ${result.rps.toFixed(0)} req/s, ${result.cpuPerRequest!.toFixed(0)} µs CPU/req, p99 ${result.p99} ms`);
  }
}

const [off, on, ...parts] = parties.map((p) => ({ name: p.name, rps: median(p.samples.map((s) => s.rps)), cpu: median(p.samples.map((s) => s.cpuPerRequest!)) }));
if (!off || !on) throw new Error('no figures');
console.log(`\nmedians of ${ROUNDS} rounds of ${SECONDS} s, ${CONNECTIONS} connections:`);
console.log(`metrics + audit + policy off: ${off.rps.toFixed(0)} req/s, ${off.cpu.toFixed(0)} µs proxy CPU/request`);
console.log(`metrics + audit + policy on:  ${on.rps.toFixed(0)} req/s, ${on.cpu.toFixed(0)} µs proxy CPU/request`);
console.log(`ratio on/off: ${(on.rps / off.rps).toFixed(3)} requests/s (goal >= 0.9), ${(on.cpu / off.cpu).toFixed(3)} CPU per request`);
for (const part of parts) console.log(`${part.name} alone: ${part.rps.toFixed(0)} req/s (${(part.rps / off.rps).toFixed(3)}x), ${part.cpu.toFixed(0)} µs CPU/request (${(part.cpu / off.cpu).toFixed(3)}x)`);
// SIGTERM lets the proxies write their profiles.
process.exit(0);
