import { format } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxyHost, send, type HostKind, type ProxyHost } from '../helpers/servers.ts';
import { CLUSTER_TOKEN, USER_TOKEN, fixedCorpus, randomCorpus, type Case, type ClusterName } from '../helpers/hostile-corpus.ts';
import { exchangeRaw, pool, startLoggingUpstream, type LoggingUpstream, type RawAnswer, type UpstreamRecord } from '../helpers/raw-http.ts';

const SEED = Number(process.env.HOSTILE_SEED ?? Date.now() % 1_000_000);
const RANDOM_CASES = 300;
const SECRETS = [CLUSTER_TOKEN, USER_TOKEN, Buffer.from(USER_TOKEN).toString('base64url'), Buffer.from(CLUSTER_TOKEN).toString('base64url')];

const upstreams = {} as Record<ClusterName, LoggingUpstream>;
const logged: string[] = [];
const escaped: unknown[] = [];
const trap = (error: unknown) => escaped.push(error);

beforeAll(async () => {
  process.on('unhandledRejection', trap);
  process.on('uncaughtException', trap);
  for (const name of ['cc', 'u', 'ut'] as const) upstreams[name] = await startLoggingUpstream();
});
afterAll(async () => {
  process.off('unhandledRejection', trap);
  process.off('uncaughtException', trap);
  await Promise.all(Object.values(upstreams).map((u) => u.close()));
});

async function hostFor(kind: HostKind): Promise<ProxyHost> {
  const log = (...args: unknown[]) => void logged.push(format(...args));
  return startProxyHost(
    {
      clusters: [
        { name: 'cc', server: upstreams.cc.url, credentials: { token: CLUSTER_TOKEN } },
        { name: 'u', server: upstreams.u.url },
        { name: 'ut', server: upstreams.ut.url, credentials: { token: CLUSTER_TOKEN }, authMode: 'user-then-cluster' },
      ],
      logger: { warn: log, error: log },
      on: { error: (event) => void logged.push(event.error.message) },
    },
    kind,
  );
}

const fromCluster = (r: { headers: Map<string, string> }) => r.headers.get('x-upstream') === '1';

/** Everything wrong with one case's answer and what the cluster saw of it. */
function problems(c: Case, answer: RawAnswer, seen: UpstreamRecord[]): string[] {
  const found: string[] = [];
  if (answer.responses.length === 0 && !(c.silentClose && answer.ended)) found.push(answer.ended ? 'the connection closed without an answer' : 'no answer and no close: a hang');
  for (const r of answer.responses) {
    if (fromCluster(r)) continue;
    // A target outside the mount path is the host's (Express answers its own 404 page).
    if (r.status === 404 && r.headers.get('content-type')?.startsWith('text/html') && !/^\S+ \/clusters\//.test(c.raw.toString('latin1'))) continue;
    if (r.status < 400) found.push(`the proxy answered ${r.status} without the cluster`);
    if (r.body === '') {
      if (![400, 413, 414, 417, 431, 505].includes(r.status)) found.push(`an empty ${r.status} that is not a parser-level refusal`);
    } else {
      let status: { kind?: string; code?: number } | undefined;
      try {
        status = JSON.parse(r.body) as typeof status;
      } catch {
        found.push(`a ${r.status} whose body is not a Status: ${JSON.stringify(r.body.slice(0, 80))}`);
      }
      if (status && (status.kind !== 'Status' || status.code !== r.status)) found.push(`a ${r.status} with a body that is not its Status`);
    }
  }
  const relayed = answer.responses.filter(fromCluster).length;
  // With one request on the connection, every request the cluster saw is answered; after a second
  // (pipelined, or garbage that Node's parser refuses) the connection may be cut first.
  if (c.requests === 1 ? seen.length !== relayed : relayed > seen.length) found.push(`the cluster saw ${seen.length} request(s) but ${relayed} of its answers came back`);
  if (seen.length > c.requests) found.push(`the cluster saw ${seen.length} requests for ${c.requests} sent`);
  if (c.expect === 'forwarded') {
    if (seen.length !== 1 || relayed !== 1) found.push('expected the request to reach the cluster exactly once');
    if (c.bodyBytes !== undefined && seen[0] && seen[0].bodyBytes !== c.bodyBytes) found.push(`the cluster got ${seen[0].bodyBytes} body bytes of ${c.bodyBytes}`);
  }
  if (c.expect === 'refused' && (seen.length > 0 || answer.responses.some((r) => r.body === ''))) found.push('expected a Status from the proxy and nothing upstream');
  for (const secret of SECRETS) if (answer.text.includes(secret)) found.push('a token appears in the answer');
  return found;
}

/** What must hold of everything the clusters saw, whichever case sent it. */
function upstreamProblems(cases: readonly Case[]): string[] {
  const byId = new Map(cases.map((c) => [c.id, c]));
  const found: string[] = [];
  const counts = new Map<string, number>();
  for (const [name, upstream] of Object.entries(upstreams) as [ClusterName, LoggingUpstream][]) {
    for (const error of upstream.parseErrors) found.push(`${name}: bytes the cluster could not parse (unframed): ${error}`);
    for (const r of upstream.records) {
      if (r.caseId === undefined || !byId.has(r.caseId)) {
        found.push(`${name}: a request no case sent (smuggled): ${r.method} ${r.url} ${JSON.stringify(r.headers)}`);
        continue;
      }
      counts.set(r.caseId, (counts.get(r.caseId) ?? 0) + 1);
      const auth = String(r.headers.authorization ?? '');
      if (!/^Bearer [\x21-\x7e]+$/.test(auth)) found.push(`${name} ${r.caseId}: Authorization ${JSON.stringify(auth)}`);
      if (name === 'cc' && auth !== `Bearer ${CLUSTER_TOKEN}`) found.push(`cc ${r.caseId}: not the cluster's own token`);
      if (name === 'u' && auth.includes(CLUSTER_TOKEN)) found.push(`u ${r.caseId}: the cluster's token on a user request`);
      const own = auth === `Bearer ${CLUSTER_TOKEN}`;
      if (own && Object.keys(r.headers).some((h) => h.startsWith('impersonate-'))) found.push(`${name} ${r.caseId}: a client's Impersonate-* header with the cluster's identity`);
      if (r.headers.cookie !== undefined) found.push(`${name} ${r.caseId}: a Cookie reached the cluster`);
      if (/(^|,)\s*base64url\.bearer\.authorization\.k8s\.io/i.test(String(r.headers['sec-websocket-protocol'] ?? ''))) found.push(`${name} ${r.caseId}: a bearer subprotocol entry reached the cluster: ${String(r.headers['sec-websocket-protocol'])}`);
      if (r.headers.expect !== undefined || r.headers['proxy-authorization'] !== undefined) found.push(`${name} ${r.caseId}: a hop-by-hop header reached the cluster`);
      if (!r.upgrade && r.headers.upgrade !== undefined) found.push(`${name} ${r.caseId}: Upgrade on a plain request`);
    }
  }
  for (const [id, count] of counts) if (count > byId.get(id)!.requests) found.push(`${id}: the cluster saw it ${count} times`);
  return found;
}

async function run(host: ProxyHost, cases: readonly Case[]): Promise<string[]> {
  for (const upstream of Object.values(upstreams)) {
    upstream.records.length = 0;
    upstream.parseErrors.length = 0;
  }
  const port = Number(new URL(host.url).port);
  const answers = new Map<string, RawAnswer>();
  await pool(cases, 24, async (c) => {
    answers.set(c.id, await exchangeRaw(port, c.raw, 3_000));
  });
  // The cluster records a request once its body ended: give the last ones a moment.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const seen = new Map<string, UpstreamRecord[]>();
  for (const upstream of Object.values(upstreams)) {
    for (const r of upstream.records) if (r.caseId !== undefined) seen.set(r.caseId, [...(seen.get(r.caseId) ?? []), r]);
  }
  const found: string[] = [];
  for (const c of cases) {
    for (const problem of problems(c, answers.get(c.id)!, seen.get(c.id) ?? [])) found.push(`${c.id} ${c.what}: ${problem}`);
  }
  found.push(...upstreamProblems(cases));
  for (const line of logged) for (const secret of SECRETS) if (line.includes(secret)) found.push(`a token in a log line: ${line.slice(0, 120)}`);
  return found;
}

const fixed = fixedCorpus();

describe.each(['express5', 'node-http'] as const)('hostile input through a %s host', (kind) => {
  let host: ProxyHost;
  beforeAll(async () => {
    host = await hostFor(kind);
  });
  afterAll(() => host.close());

  it(`the fixed corpus (${fixed.length} cases) is answered without harm`, async () => {
    expect(fixed.length).toBeGreaterThanOrEqual(1000);
    const found = await run(host, fixed);
    expect(found, found.slice(0, 40).join('\n')).toEqual([]);
    expect(escaped).toEqual([]);
  });

  it(`a random corpus (seed ${SEED}; replay with HOSTILE_SEED=${SEED}) is answered without harm`, async () => {
    const found = await run(host, randomCorpus(SEED, RANDOM_CASES));
    expect(found, `seed ${SEED}\n${found.slice(0, 40).join('\n')}`).toEqual([]);
    expect(escaped).toEqual([]);
  });

  it('still serves a good request afterwards', async () => {
    const res = await send(`${host.url}/clusters/cc/version`);
    expect(res.status).toBe(200);
    expect(res.headers['x-upstream']).toBe('1');
  });
});
