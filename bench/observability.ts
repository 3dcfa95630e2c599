/**
 * What metrics, audit and policy cost a proxied request: requests/s of a small JSON GET through
 * createClusterProxy with all three on (prometheusMetrics, an audit sink that JSON-stringifies
 * every event, a policy of 3 deny and 3 allow rules) next to the same proxy with none of them.
 * Run: `node --conditions=kcp-source bench/observability.ts`. The fake cluster runs in a process of
 * its own; the two proxies take turns, best of BENCH_ROUNDS (default 3) runs of BENCH_SECONDS
 * (default 5) each, so that both see the same machine. Prints the two figures and their ratio.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { createClusterProxy, type ClusterProxyOptions } from 'kube-cluster-proxy';
import { prometheusMetrics } from 'kube-cluster-proxy/metrics';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const POD_PATH = '/api/v1/namespaces/default/pods/web-bench-1';

const child = spawn(process.execPath, ['--conditions=kcp-source', new URL('./fake-cluster.ts', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] });
const fake = await new Promise<{ url: string; ca: string; token: string }>((resolve, reject) => {
  createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line) as { url: string; ca: string; token: string }));
  child.once('exit', (code) => reject(new Error(`the fake cluster exited with ${code}`)));
});

async function serveProxy(options: Partial<ClusterProxyOptions>): Promise<string> {
  const proxy = createClusterProxy({ clusters: [{ name: 'bench', server: fake.url, ca: fake.ca, credentials: { token: fake.token } }], ...options });
  const server = createServer((req, res) => proxy(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/clusters/bench${POD_PATH}`;
}

let audited = 0;
const metrics = prometheusMetrics();
const off = await serveProxy({});
const on = await serveProxy({
  on: [metrics.hooks, { audit: (event) => void (audited += JSON.stringify(event).length) }],
  policy: {
    deny: [
      { resources: ['pods/exec', 'pods/attach', 'pods/portforward'], namespaces: ['prod', 'kube-system'], reason: 'no shells in prod' },
      { apiGroups: ['rbac.authorization.k8s.io'], verbs: ['create', 'update', 'patch', 'delete'] },
      { resources: ['secrets'], groups: ['contractors'] },
    ],
    allow: [{ verbs: ['get', 'list', 'watch'] }, { groups: ['oncall'], resources: ['*/scale', 'pods/exec'] }, { nonResourceURLs: ['/version', '/openapi/*'] }],
  },
});

async function rps(url: string): Promise<number> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS });
  if (result.errors > 0 || result.non2xx > 0) throw new Error(`${url}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
  return result.requests.average;
}

// A warm-up of each, then turns.
await rps(off);
await rps(on);
let bestOff = 0;
let bestOn = 0;
for (let round = 0; round < ROUNDS; round++) {
  bestOff = Math.max(bestOff, await rps(off));
  bestOn = Math.max(bestOn, await rps(on));
}
console.log(`requests/s, metrics + audit + policy off: ${bestOff.toFixed(0)}`);
console.log(`requests/s, metrics + audit + policy on:  ${bestOn.toFixed(0)}`);
console.log(`ratio on/off: ${(bestOn / bestOff).toFixed(3)} (audit sink wrote ${audited} characters)`);
child.kill('SIGTERM');
process.exit(0);
