/**
 * Microbenchmark of what metrics and audit add to each request, without the network: the
 * observer's `response` (which emits `proxyRes` and builds and emits the audit event) for a pod
 * GET, with no hooks, metrics, the audit sink of bench/observed.ts, and both. Run:
 * `node --conditions=kcp-source bench/observability-hooks.ts`. Prints microseconds per request,
 * best of five rounds (the least disturbed by the other processes on the machine); each setup
 * runs in a child process of its own, so that one's compiled code does not slow another's.
 * Options (environment): BENCH_ITERATIONS per round (default 200,000).
 */
import { spawnSync } from 'node:child_process';
import { createHookEmitter, type ClusterProxyHooks } from '../src/hooks.ts';
import { createConnections } from '../src/lifecycle/connections.ts';
import { createAnswers } from '../src/pipeline/answer.ts';
import type { Exchange } from '../src/pipeline/exchange.ts';
import { createForwardObserver } from '../src/pipeline/observer.ts';
import { parseRequestInfo } from '../src/pipeline/request-info.ts';
import { observed } from './observed.ts';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200_000);
const SETUPS: Record<string, string[] | undefined> = { none: undefined, metrics: ['metrics'], audit: ['audit'], 'metrics + audit': ['metrics', 'audit'] };
const PATH = '/api/v1/namespaces/default/pods/web-bench-1';

function exchangeFor(i: number): Exchange {
  return {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    client: { address: '127.0.0.1', userAgent: 'autocannon' },
    cluster: { name: 'bench' } as Exchange['cluster'],
    identity: { kind: 'cluster', source: 'token' },
    request: parseRequestInfo('GET', PATH),
    user: { name: 'bench', groups: [], kind: 'cluster', source: 'cluster' },
    credentialSource: undefined,
    credential: undefined,
    method: 'GET',
    path: PATH,
    pathname: PATH,
    headers: {},
    hasBody: false,
    upgrade: false,
    streaming: false,
    timeoutMs: 30_000,
    startedAt: Date.now(),
    session: undefined,
    credentialExpiresAt: undefined,
    clientCloses: false,
    trace: undefined,
    audited: false,
  };
}

function measure(parts: string[] | undefined): number {
  const on = parts === undefined ? undefined : (observed(parts).on as ClusterProxyHooks[]);
  const emitter = createHookEmitter(on, console);
  const observer = createForwardObserver({ emitter, answers: createAnswers(emitter, console, Date.now), sessions: undefined, now: Date.now, connections: createConnections(Date.now) });
  const exchanges = Array.from({ length: 1000 }, (_, i) => exchangeFor(i));
  let best = Infinity;
  for (let round = 0; round < 6; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) {
      const exchange = exchanges[i % exchanges.length]!;
      exchange.audited = false;
      observer.response(exchange, 200);
    }
    // The first round warms the JIT up.
    if (round > 0) best = Math.min(best, Number(process.hrtime.bigint() - start) / ITERATIONS / 1000);
  }
  return best;
}

const setup = process.env.BENCH_HOOKS_SETUP;
if (setup !== undefined) console.log(measure(SETUPS[setup]).toFixed(2));
else {
  for (const name of Object.keys(SETUPS)) {
    const child = spawnSync(process.execPath, ['--conditions=kcp-source', new URL(import.meta.url).pathname], { env: { ...process.env, BENCH_HOOKS_SETUP: name }, encoding: 'utf8' });
    console.log(`${name}: ${child.stdout.trim()} µs per request`);
  }
}
