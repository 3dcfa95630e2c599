import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClusterResolver, ClusterResolverEvent } from '../clusters/cluster-resolver.ts';
import type { TokenStore } from '../tokens/token-store.ts';

/** How long a readiness check waits for the token store or the resolver before calling it unreachable. */
export const CHECK_TIMEOUT_MS = 1_000;

/** The key the readiness check reads: any `get` proves the store answers, found or not. */
const PROBE_KEY = 'kube-cluster-proxy:readiness-probe';

/** What readiness reports: `ok`, or a short reason. Never a credential, never a stack. */
export interface ReadinessReport {
  ready: boolean;
  checks: { draining: 'ok' | 'draining'; tokenStore: string; resolver: string };
}

/** A Node/Express handler: `app.get('/readyz', proxy.readiness)`. */
export type ProbeHandler = (req: IncomingMessage, res: ServerResponse) => void;

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Watches a resolver's events for a fatal problem: an error about no one cluster (a file that no
 * longer parses, no file at all) until the next good reload. A broken context alone is not fatal:
 * the other clusters serve, and that one answers with its error.
 */
export function watchResolverHealth(): { listen: (event: ClusterResolverEvent) => void; fatal: () => Error | undefined } {
  let fatal: Error | undefined;
  return {
    listen: (event) => {
      if (event.type === 'reload') fatal = undefined;
      else if ((event.error as { cluster?: unknown }).cluster === undefined) fatal = event.error;
    },
    fatal: () => fatal,
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** What the probes read from the proxy. */
export interface ProbeDependencies {
  draining(): boolean;
  tokenStore: TokenStore;
  resolver: ClusterResolver;
  resolverFatal(): Error | undefined;
}

/** Runs the readiness checks; each one bounded by {@link CHECK_TIMEOUT_MS}. */
export async function checkReadiness(deps: ProbeDependencies): Promise<ReadinessReport> {
  const [tokenStore, resolver] = await Promise.all([
    within(deps.tokenStore.get(PROBE_KEY), 'the token store').then(
      () => 'ok',
      () => 'unreachable',
    ),
    within(Promise.resolve().then(() => deps.resolver.list()), 'the cluster resolver').then(
      () => (deps.resolverFatal() ? `error: ${deps.resolverFatal()!.message.slice(0, 200)}` : 'ok'),
      () => 'unavailable',
    ),
  ]);
  const draining = deps.draining() ? 'draining' : 'ok';
  return { ready: draining === 'ok' && tokenStore === 'ok' && resolver === 'ok', checks: { draining, tokenStore, resolver } };
}

/**
 * The probe handlers. Readiness answers `200` or `503` with `{ ready, checks }`; liveness answers
 * `200` whenever the event loop runs, since a restart fixes nothing the other checks find.
 */
export function createProbes(deps: ProbeDependencies): { readiness: ProbeHandler; liveness: ProbeHandler } {
  return {
    readiness: (_req, res) => {
      void checkReadiness(deps).then((report) => send(res, report.ready ? 200 : 503, report));
    },
    liveness: (_req, res) => {
      send(res, 200, { alive: true });
    },
  };
}
