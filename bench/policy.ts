/**
 * Microbenchmark of what runs on every request before it is forwarded: reading the request
 * (parseRequestInfo) and deciding the policy. Run: `node --conditions=kcp-source bench/policy.ts`.
 * Prints nanoseconds per call, best of five rounds (the least disturbed by the other processes
 * on the machine). Options (environment): BENCH_ITERATIONS per round (default 1,000,000).
 */
import { parseRequestInfo, type RequestInfo } from '../src/pipeline/request-info.ts';
import type { UserInfo } from '../src/pipeline/user.ts';
import { decide } from '../src/policy/decide.ts';
import { combinePolicies, validatePolicy } from '../src/policy/validate-policy.ts';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 1_000_000);
const ROUNDS = 5;

/** A mix like a dashboard's: gets, lists and watches, logs, an exec, discovery. */
const REQUESTS: [string, string][] = [
  ['GET', '/api/v1/namespaces/default/pods/web-1'],
  ['GET', '/api/v1/namespaces/default/pods?limit=500'],
  ['GET', '/apis/apps/v1/namespaces/default/deployments?watch=1&resourceVersion=12345&allowWatchBookmarks=true'],
  ['GET', '/api/v1/namespaces/default/pods/web-1/log?container=app&follow=true&tailLines=100'],
  ['GET', '/api/v1/namespaces/default/pods/web-1/exec?command=sh&stdin=true&stdout=true&tty=true'],
  ['PATCH', '/apis/apps/v1/namespaces/default/deployments/web/scale'],
  ['GET', '/api/v1/nodes'],
  ['GET', '/apis/apps/v1'],
];

const user: UserInfo = { name: 'alice@example.com', groups: ['dev', 'oncall'], kind: 'impersonated', source: 'verified-token' };

let sink = 0;

function measure(name: string, run: (i: number) => unknown): void {
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) if (run(i)) sink++;
    const ns = Number(process.hrtime.bigint() - start) / ITERATIONS;
    best = Math.min(best, ns);
  }
  console.log(`${name.padEnd(58)} ${best.toFixed(0).padStart(6)} ns`);
}

const mask = REQUESTS.length - 1; // a power of two
measure('parseRequestInfo (the mix above, per call)', (i) => parseRequestInfo(REQUESTS[i & mask]![0], REQUESTS[i & mask]![1]).isResourceRequest);
measure('parseRequestInfo GET pod (no query)', () => parseRequestInfo('GET', REQUESTS[0]![1]).isResourceRequest);
measure('parseRequestInfo watch (query read)', () => parseRequestInfo('GET', REQUESTS[2]![1]).isResourceRequest);

const infos: RequestInfo[] = REQUESTS.map(([method, path]) => parseRequestInfo(method, path));
const readOnly = validatePolicy({ readOnly: true }, 'policy');
const typical = validatePolicy(
  {
    deny: [
      { resources: ['pods/exec', 'pods/attach', 'pods/portforward'], namespaces: ['prod', 'kube-system'], reason: 'no shells in prod' },
      { apiGroups: ['rbac.authorization.k8s.io'], verbs: ['create', 'update', 'patch', 'delete'] },
      { resources: ['secrets'], groups: ['contractors'] },
    ],
    allow: [
      { verbs: ['get', 'list', 'watch'] },
      { groups: ['oncall'], resources: ['*/scale', 'pods/exec'] },
      { nonResourceURLs: ['/version', '/openapi/*'] },
    ],
  },
  'policy',
);
const withCluster = combinePolicies(typical, validatePolicy({ deny: [{ namespaces: ['kube-system'] }], authorize: (request: RequestInfo) => request.namespace !== 'payments' }, 'clusters[0].policy'));

const decided = (d: ReturnType<typeof decide>) => !(d instanceof Promise) && d.allowed;
measure('decide, no policy', (i) => decided(decide(undefined, infos[i & mask]!, user, 'prod')));
measure('decide, readOnly', (i) => decided(decide(readOnly, infos[i & mask]!, user, 'prod')));
measure('decide, 3 deny + 3 allow rules', (i) => decided(decide(typical, infos[i & mask]!, user, 'prod')));
measure('decide, 3 deny + 3 allow rules, GET pod (allowed)', () => decided(decide(typical, infos[0]!, user, 'prod')));
measure('decide, readOnly, PATCH scale (denied: the message is built)', () => decided(decide(readOnly, infos[5]!, user, 'prod')));
measure('decide, default + cluster policy with a sync authorize', (i) => decided(decide(withCluster, infos[i & mask]!, user, 'prod')));
measure('parseRequestInfo + decide (3 deny + 3 allow rules)', (i) => {
  const [method, path] = REQUESTS[i & mask]!;
  return decided(decide(typical, parseRequestInfo(method, path), user, 'prod'));
});
if (sink < 0) console.log(sink);
