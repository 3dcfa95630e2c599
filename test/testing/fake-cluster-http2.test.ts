import { connect as connectHttp2, type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { httpRequest, openWebSocket, streamLines } from './kit-helpers.ts';

// The fake speaks HTTP/2 and HTTP/1.1 on one port, as kube-apiserver does; the rest of the kit's
// tests drive it over HTTP/1.1, these over HTTP/2 with node:http2's own client.
let fake: FakeCluster;

beforeAll(async () => {
  fake = await startFakeCluster({ tokens: { 'admin-token': { user: 'admin', groups: ['system:masters'] } }, clientCertificates: true });
});
afterAll(() => fake.close());

interface Http2Answer {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

function h2Request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: string): Promise<Http2Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let text = '';
    let responseHeaders: Record<string, unknown> = {};
    stream.on('response', (h) => (responseHeaders = h));
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    stream.on('end', () => resolve({ status: Number(responseHeaders[':status']), headers: responseHeaders, body: text }));
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
  });
}

async function session(options: { cert?: string; key?: string } = {}): Promise<ClientHttp2Session> {
  const s = connectHttp2(fake.url, { ca: fake.ca, ...options });
  await new Promise<void>((resolve, reject) => s.once('connect', () => resolve()).once('error', reject));
  return s;
}

const ADMIN = { authorization: 'Bearer admin-token' };

describe('the fake over HTTP/2', () => {
  it('serves requests multiplexed on one connection and logs their version and connection', async () => {
    const before = fake.connections();
    const since = fake.requests.length;
    const s = await session();
    try {
      expect(s.alpnProtocol).toBe('h2');
      const answers = await Promise.all(Array.from({ length: 5 }, () => h2Request(s, { ':path': '/api/v1/namespaces/default/pods', ...ADMIN })));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
      expect((JSON.parse(answers[0]!.body) as { items: unknown[] }).items.length).toBe(3);
      const created = await h2Request(
        s,
        { ':method': 'POST', ':path': '/api/v1/namespaces/default/configmaps', 'content-type': 'application/json', ...ADMIN },
        JSON.stringify({ metadata: { name: 'over-h2' }, data: { a: '1' } }),
      );
      expect(created.status).toBe(201);
      // Connection headers are forbidden on HTTP/2 responses (node:http2 would throw on them).
      expect(created.headers).not.toHaveProperty('connection');
      expect(created.headers).not.toHaveProperty('transfer-encoding');
    } finally {
      s.close();
    }
    expect(fake.connections() - before).toBe(1);
    const logged = fake.requests.slice(since);
    expect(logged.map((r) => r.httpVersion)).toEqual(Array(6).fill('2.0'));
    expect(new Set(logged.map((r) => r.connection))).toEqual(new Set([fake.connections()]));
  });

  it('streams a watch without Transfer-Encoding, and ends it when the client resets the stream', async () => {
    const s = await session();
    try {
      const stream = s.request({ ':path': '/api/v1/namespaces/default/pods?watch=1', ...ADMIN });
      const headers = await new Promise<Record<string, unknown>>((resolve) => stream.once('response', (h) => resolve(h)));
      expect(headers[':status']).toBe(200);
      expect(headers).not.toHaveProperty('transfer-encoding');
      let text = '';
      stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
      await expect.poll(() => text.split('\n').filter(Boolean).length).toBe(3);
      expect(fake.activeStreams('watch')).toBe(1);
      stream.close();
      await expect.poll(() => fake.activeStreams('watch')).toBe(0);
    } finally {
      s.close();
    }
  });

  it('authenticates client certificates and impersonates with repeated headers, as over HTTP/1.1', async () => {
    const s = await session(fake.issueClientCertificate('carol', ['system:masters']));
    try {
      const review = await h2Request(
        s,
        { ':method': 'POST', ':path': '/apis/authentication.k8s.io/v1/selfsubjectreviews', 'content-type': 'application/json', 'impersonate-user': 'dave', 'impersonate-group': ['g1', 'g2'] },
        JSON.stringify({ kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1' }),
      );
      expect(review.status).toBe(201);
      expect((JSON.parse(review.body) as { status: { userInfo: { username: string; groups: string[] } } }).status.userInfo).toMatchObject({ username: 'dave', groups: ['g1', 'g2', 'system:authenticated'] });
      expect(fake.requests.at(-1)).toMatchObject({ user: 'dave', authenticatedBy: 'certificate', httpVersion: '2.0' });
      const unauthenticated = await h2Request(await session(), { ':path': '/api/v1/pods' });
      expect(unauthenticated.status).toBe(401);
    } finally {
      s.close();
    }
  });

  it('keeps HTTP/1.1 clients and upgrades on HTTP/1.1', async () => {
    const since = fake.requests.length;
    expect((await httpRequest(fake, '/version', { headers: ADMIN })).status).toBe(200);
    const ws = await openWebSocket(fake, '/api/v1/namespaces/default/pods/web-fake-1/exec?command=true&stdout=true', ['v5.channel.k8s.io'], ADMIN);
    if (!('ws' in ws)) throw new Error(`the exec upgrade was refused: ${ws.status} ${ws.body}`);
    ws.ws.close();
    expect(fake.requests.slice(since).map((r) => [r.httpVersion, r.upgrade])).toEqual([
      ['1.1', false],
      ['1.1', true],
    ]);
  });
});

describe('http2: false', () => {
  it('offers HTTP/1.1 only', async () => {
    await using plain = await startFakeCluster({ http2: false, tokens: { t: 'alice' } });
    const s = connectHttp2(plain.url, { ca: plain.ca });
    const failure = await new Promise<Error>((resolve) => s.once('error', resolve));
    expect(failure.message).toMatch(/protocol/i);
    s.destroy();
    const lines = streamLines(plain, '/api/v1/namespaces/default/pods?watch=1', 't');
    // node:http frames the stream itself over HTTP/1.1 (the fake no longer names Transfer-Encoding).
    expect((await lines.headers)['transfer-encoding']).toBe('chunked');
    await expect.poll(() => lines.lines.length).toBe(3);
    lines.abort();
    expect(plain.requests.map((r) => r.httpVersion)).toEqual(['1.1']);
  });

  it('is validated', async () => {
    await expect(startFakeCluster({ http2: 'yes' as never })).rejects.toThrow('startFakeCluster(): http2 must be a boolean');
  });
});
