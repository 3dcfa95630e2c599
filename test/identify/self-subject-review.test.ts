import { createServer, type RequestListener, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { validateClusterConfig } from '../../src/clusters/cluster-config.ts';
import { createClusterAgent } from '../../src/forward/agents.ts';
import { createRouteTls } from '../../src/forward/route-tls.ts';
import { createDeadlines } from '../../src/forward/deadlines.ts';
import { createUpstreamRequester } from '../../src/forward/upstream-request.ts';
import { createReviewCache } from '../../src/identify/review-cache.ts';
import { createSelfSubjectReviewer, outcomeOfStatus, parseSelfSubjectReview, SELF_SUBJECT_REVIEW_PATH } from '../../src/identify/self-subject-review.ts';
import { closeServer, listen } from '../helpers/servers.ts';

const deadlines = createDeadlines();
let fake: FakeCluster;
const servers: Server[] = [];
beforeAll(async () => {
  fake = await startFakeCluster({ tokens: { 'alice-token': { user: 'alice', groups: ['devs'] } } });
});
afterAll(async () => {
  deadlines.close();
  await fake.close();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => closeServer(s)));
});

function reviewerFor(server: string, ca?: string) {
  const cluster = validateClusterConfig({ name: 'c', server, ...(ca ? { ca } : {}) }, 'clusters[0]');
  const warnings: string[] = [];
  const logger = { warn: (...args: unknown[]) => void warnings.push(args.join(' ')), error: () => {} };
  const reviewer = createSelfSubjectReviewer(cluster, createUpstreamRequester(cluster, createClusterAgent(createRouteTls(cluster, undefined)), deadlines), createReviewCache({ ttlMs: 60_000, max: 10 }), logger);
  return { reviewer, warnings };
}

async function stub(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  return listen(server);
}

describe('parseSelfSubjectReview', () => {
  it('reads the user name and groups', () => {
    const body = JSON.stringify({ kind: 'SelfSubjectReview', status: { userInfo: { username: 'alice', uid: '1', groups: ['devs', 'system:authenticated'] } } });
    expect(parseSelfSubjectReview(body)).toEqual({ kind: 'user', name: 'alice', groups: ['devs', 'system:authenticated'] });
  });

  it.each([
    ['not JSON', '{"kind":'],
    ['empty', ''],
    ['null', 'null'],
    ['an array', '[]'],
    ['another kind', JSON.stringify({ kind: 'Status', status: { userInfo: { username: 'alice' } } })],
    ['no status', JSON.stringify({ kind: 'SelfSubjectReview' })],
    ['no userInfo', JSON.stringify({ kind: 'SelfSubjectReview', status: {} })],
    ['an empty user name', JSON.stringify({ kind: 'SelfSubjectReview', status: { userInfo: { username: '' } } })],
    ['a user name that is not a string', JSON.stringify({ kind: 'SelfSubjectReview', status: { userInfo: { username: 42 } } })],
  ])('tells nothing from %s', (_what, body) => {
    expect(parseSelfSubjectReview(body)).toEqual({ kind: 'unknown', lasting: false });
  });

  it('keeps only the string groups', () => {
    const body = JSON.stringify({ kind: 'SelfSubjectReview', status: { userInfo: { username: 'bob', groups: ['a', 1, null, 'b'] } } });
    expect(parseSelfSubjectReview(body)).toEqual({ kind: 'user', name: 'bob', groups: ['a', 'b'] });
    const noGroups = JSON.stringify({ kind: 'SelfSubjectReview', status: { userInfo: { username: 'bob', groups: 'a' } } });
    expect(parseSelfSubjectReview(noGroups)).toEqual({ kind: 'user', name: 'bob', groups: [] });
  });
});

describe('outcomeOfStatus', () => {
  it.each([
    [401, { kind: 'refused' }],
    [403, { kind: 'unknown', lasting: true }],
    [404, { kind: 'unknown', lasting: true }],
    [500, { kind: 'unknown', lasting: false }],
    [429, { kind: 'unknown', lasting: false }],
  ])('%i', (code, outcome) => expect(outcomeOfStatus(code)).toEqual(outcome));
});

describe('the self-subject reviewer', () => {
  it('asks the cluster with the user token and returns who it is; a refused token is nobody', async () => {
    const { reviewer } = reviewerFor(fake.url, fake.ca);
    fake.clearRequests();
    expect(await reviewer('alice-token')).toEqual({ name: 'alice', groups: ['devs', 'system:authenticated'] });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({ method: 'POST', path: SELF_SUBJECT_REVIEW_PATH, user: 'alice', headers: { authorization: 'Bearer alice-token' } });
    expect(await reviewer('alice-token')).toMatchObject({ name: 'alice' });
    expect(fake.requests).toHaveLength(1);
    expect(await reviewer('wrong-token')).toBeUndefined();
    expect(await reviewer('wrong-token')).toBeUndefined();
    expect(fake.requests).toHaveLength(3);
  });

  it.each([403, 404])('leaves the user unknown on %i, warns once, and keeps that answer', async (code) => {
    let hits = 0;
    const url = await stub((_req, res) => {
      hits += 1;
      res.writeHead(code, { 'content-type': 'application/json' }).end('{"kind":"Status"}');
    });
    const { reviewer, warnings } = reviewerFor(url);
    expect(await reviewer('t')).toBeUndefined();
    expect(await reviewer('t')).toBeUndefined();
    expect(await reviewer('u')).toBeUndefined();
    expect(hits).toBe(2);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`answered ${code}`);
    expect(warnings[0]).not.toContain('Bearer');
  });

  it('leaves the user unknown when the cluster is unreachable or its answer is oversized, and asks again later', async () => {
    const gone = await stub(() => {});
    await closeServer(servers.pop()!);
    expect(await reviewerFor(gone).reviewer('t')).toBeUndefined();

    let hits = 0;
    const huge = await stub((_req, res) => {
      hits += 1;
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'SelfSubjectReview', status: { userInfo: { username: 'x', groups: ['g'.repeat(300 * 1024)] } } }));
    });
    const { reviewer } = reviewerFor(huge);
    expect(await reviewer('t')).toBeUndefined();
    expect(await reviewer('t')).toBeUndefined();
    expect(hits).toBe(2);
  });
});
