import { spawn } from 'node:child_process';
import { get, request } from 'node:http';
import { Readable } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster, type FakeRequest } from 'kube-cluster-proxy/testing';
import { completion, requireKubectl } from '../helpers/kubectl.ts';
import { startProxyHost, type ProxyHost } from '../helpers/servers.ts';
import { getJson, openWatch, type WatchStream } from '../helpers/watch-client.ts';
import { execQuery, runChannelSession } from '../helpers/websocket.ts';

// Every test file of the e2e project runs on the undici engine here: http2 is undici's alone.
let fake: FakeCluster;
let other: FakeCluster;
let h1Only: FakeCluster;
let proxy: ProxyHost;

const own = (name: string, extra: Record<string, unknown> = {}) => ({ name, server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' }, ...extra });

beforeAll(async () => {
  fake = await startFakeCluster({ name: 'h2', tokens: { 'svc-token': 'dashboard' } });
  other = await startFakeCluster({ name: 'other' });
  h1Only = await startFakeCluster({ name: 'h1-only', http2: false, tokens: { 'svc-token': 'dashboard' } });
  proxy = await startProxyHost({
    clusters: [
      own('h2', { http2: true }),
      own('h1'),
      own('many', { http2: true }),
      own('named', { http2: true, server: fake.url, tlsServerName: 'kubernetes' }),
      own('misnamed', { http2: true, tlsServerName: 'not-the-server.example' }),
      own('wrong-ca', { http2: true, ca: other.ca }),
      { name: 'h1-only', server: h1Only.url, ca: h1Only.ca, credentials: { token: 'svc-token' }, http2: true },
    ],
  });
});
afterAll(async () => {
  await proxy.close();
  await other.close();
  await h1Only.close();
  await fake.close();
});

const url = (cluster: string, path: string) => `${proxy.url}/clusters/${cluster}${path}`;

/** The fake's log entries from `since` on whose path starts with `prefix`. */
function seen(since: number, prefix: string): FakeRequest[] {
  return fake.requests.slice(since).filter((r) => r.path.startsWith(prefix));
}

async function send(cluster: string, method: string, path: string, body: string, contentType: string): Promise<{ status: number; body: { kind?: string; metadata?: { name?: string }; data?: Record<string, string>; message?: string } }> {
  const res = await fetch(url(cluster, path), { method, body, headers: { 'content-type': contentType } });
  return { status: res.status, body: (await res.json()) as never };
}

describe('a cluster with http2: true', () => {
  it('gets, lists, creates and applies over HTTP/2', async () => {
    const since = fake.requests.length;
    const pod = await getJson<{ metadata: { name: string } }>(url('h2', '/api/v1/namespaces/default/pods/web-h2-1'));
    expect(pod).toMatchObject({ status: 200, body: { metadata: { name: 'web-h2-1' } } });
    const list = await getJson<{ items: unknown[] }>(url('h2', '/api/v1/namespaces/default/pods'));
    expect(list.status).toBe(200);
    expect(list.body.items.length).toBe(3);

    const created = await send('h2', 'POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'h2-created' }, data: { a: '1' } }), 'application/json');
    expect(created).toMatchObject({ status: 201, body: { metadata: { name: 'h2-created' }, data: { a: '1' } } });
    const applied = await send(
      'h2',
      'PATCH',
      '/api/v1/namespaces/default/configmaps/h2-applied?fieldManager=dashboard',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: h2-applied\ndata:\n  b: "2"\n',
      'application/apply-patch+yaml',
    );
    expect(applied).toMatchObject({ status: 201, body: { metadata: { name: 'h2-applied' }, data: { b: '2' } } });

    const requests = seen(since, '/api/v1/namespaces/default/');
    expect(requests.map((r) => `${r.method} ${r.httpVersion}`)).toEqual(['GET 2.0', 'GET 2.0', 'POST 2.0', 'PATCH 2.0']);
    // The proxy's own framing never reaches an HTTP/2 stream: no connection headers.
    for (const r of requests) expect(r.headers).not.toHaveProperty('transfer-encoding');
  });

  it('streams a chunked 2.5 MiB request body (the apiserver takes 3 MiB at most) over HTTP/2, and the answer back', async () => {
    const since = fake.requests.length;
    const value = 'x'.repeat(2.5 * 1024 * 1024);
    const json = JSON.stringify({ metadata: { name: 'h2-big' }, data: { value } });
    const parts = Array.from({ length: Math.ceil(json.length / 65_536) }, (_, i) => json.slice(i * 65_536, (i + 1) * 65_536));
    const status = await new Promise<number | undefined>((resolve, reject) => {
      // No Content-Length: the client sends it chunked, which HTTP/2 must not see as a header.
      const req = request(url('h2', '/api/v1/namespaces/default/configmaps'), { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      Readable.from(parts).pipe(req);
    });
    expect(status).toBe(201);
    const back = await getJson<{ data: { value: string } }>(url('h2', '/api/v1/namespaces/default/configmaps/h2-big'));
    expect(back.body.data.value.length).toBe(value.length);
    expect(seen(since, '/api/v1/namespaces/default/configmaps').map((r) => `${r.method} ${r.httpVersion} ${String(r.headers['transfer-encoding'])}`)).toEqual(['POST 2.0 undefined', 'GET 2.0 undefined']);
  });

  it('answers the client in HTTP/1.1 with a reason phrase and no HTTP/2 pseudo-headers', async () => {
    const answer = await new Promise<{ status: number | undefined; reason: string | undefined; names: string[] }>((resolve, reject) => {
      get(url('h2', '/api/v1/namespaces/default/pods/web-h2-1'), { agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, reason: res.statusMessage, names: res.rawHeaders.filter((_, i) => i % 2 === 0) }));
      }).on('error', reject);
    });
    expect(answer).toMatchObject({ status: 200, reason: 'OK' });
    expect(answer.names.filter((name) => name.startsWith(':'))).toEqual([]);
    expect(answer.names.map((n) => n.toLowerCase())).toContain('content-type');
  });

  it('leaves a cluster without it on HTTP/1.1', async () => {
    const since = fake.requests.length;
    expect((await getJson(url('h1', '/api/v1/namespaces/default/pods'))).status).toBe(200);
    expect(seen(since, '/api/v1/').map((r) => r.httpVersion)).toEqual(['1.1']);
  });

  it('streams a watch: the first events arrive while it is open, and a client abort ends it upstream', async () => {
    const since = fake.requests.length;
    const watch = openWatch(url('h2', '/api/v1/namespaces/default/pods?watch=1'));
    expect((await watch.status).code).toBe(200);
    await expect.poll(() => watch.events.length).toBe(3);
    expect(watch.events.every((e) => e.type === 'ADDED')).toBe(true);
    fake.addPod({ name: 'h2-late' });
    await expect.poll(() => watch.events.map((e) => `${e.type} ${e.object.metadata?.name}`)).toContain('ADDED h2-late');
    expect(fake.activeStreams('watch')).toBe(1);
    watch.abort();
    await expect.poll(() => fake.activeStreams('watch')).toBe(0);
    fake.deletePod('default', 'h2-late');
    expect(seen(since, '/api/v1/namespaces/default/pods?watch').map((r) => r.httpVersion)).toEqual(['2.0']);
  });

  it('multiplexes 20 concurrent requests, 3 watches and a delete over one TLS connection, a create over one more at most', async () => {
    // One request first: until a connection has chosen h2, undici opens one per request in flight.
    const since = fake.requests.length;
    expect((await getJson(url('many', '/version'))).status).toBe(200);
    const connectionsBefore = fake.connections();
    const watches: WatchStream[] = [0, 1, 2].map(() => openWatch(url('many', '/api/v1/namespaces/default/pods?watch=1')));
    try {
      expect((await Promise.all(watches.map((w) => w.status))).map((s) => s.code)).toEqual([200, 200, 200]);
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => getJson(url('many', `/api/v1/namespaces/default/pods?limit=${i + 1}`))));
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
      // A request with a body while the watches are open: it must not wait for them to end.
      const created = await send('many', 'POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ metadata: { name: 'h2-during-watches' } }), 'application/json');
      expect(created.status).toBe(201);
      // And one without a body that undici does not call idempotent.
      const deleted = await fetch(url('many', '/api/v1/namespaces/default/configmaps/h2-during-watches'), { method: 'DELETE' });
      expect(deleted.status).toBe(200);

      const reads = seen(since, '/').filter((r) => r.method === 'GET');
      expect(reads.length).toBe(24);
      expect(new Set(reads.map((r) => r.httpVersion))).toEqual(new Set(['2.0']));
      expect(new Set(reads.map((r) => r.connection)).size).toBe(1);
      const writes = seen(since, '/api/v1/namespaces/default/configmaps');
      expect(writes.map((r) => `${r.method} ${r.httpVersion}`)).toEqual(['POST 2.0', 'DELETE 2.0']);
      // A request without a body shares the connection of the reads.
      expect(writes[1]?.connection).toBe(reads[0]?.connection);
      // Requests with a body take a connection of their own (see http-undici.ts): one more at most.
      expect(fake.connections() - connectionsBefore).toBeLessThanOrEqual(1);
    } finally {
      for (const w of watches) w.abort();
    }
    await expect.poll(() => fake.activeStreams('watch')).toBe(0);
  });

  it('falls back to HTTP/1.1 when the server does not take h2, with no request queued behind a watch', async () => {
    const watch = openWatch(url('h1-only', '/api/v1/namespaces/default/pods?watch=1'));
    try {
      expect((await watch.status).code).toBe(200);
      await expect.poll(() => watch.events.length).toBe(3);
      const answers = await Promise.all(Array.from({ length: 5 }, () => getJson(url('h1-only', '/api/v1/namespaces/default/pods'))));
      expect(answers.map((a) => a.status)).toEqual(Array(5).fill(200));
      const created = await send('h1-only', 'POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ metadata: { name: 'over-h1' } }), 'application/json');
      expect(created.status).toBe(201);
    } finally {
      watch.abort();
    }
    expect(new Set(h1Only.requests.map((r) => r.httpVersion))).toEqual(new Set(['1.1']));
    await expect.poll(() => h1Only.activeStreams('watch')).toBe(0);
  });

  it('keeps exec over WebSocket on HTTP/1.1', async () => {
    const since = fake.requests.length;
    const result = await runChannelSession(url('h2', `/api/v1/namespaces/default/pods/web-h2-1/exec?${execQuery(['echo', 'over h1'])}`).replace(/^http/, 'ws'), ['v5.channel.k8s.io']);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.session.output.get(1)).toBe('over h1\n');
    const [exec] = seen(since, '/api/v1/namespaces/default/pods/web-h2-1/exec');
    expect(exec).toMatchObject({ upgrade: true, httpVersion: '1.1' });
  });

  it('verifies the server as tlsServerName and the ca say', async () => {
    const since = fake.requests.length;
    expect((await getJson(url('named', '/version'))).status).toBe(200);
    expect(seen(since, '/version').map((r) => r.httpVersion)).toEqual(['2.0']);

    const misnamed = await getJson<{ kind: string; code: number; message: string }>(url('misnamed', '/version'));
    expect(misnamed.status).toBe(502);
    expect(misnamed.body).toMatchObject({ kind: 'Status', code: 502 });
    expect(misnamed.body.message).toMatch(/TLS verification failed.*not-the-server\.example/);

    const wrongCa = await getJson<{ kind: string; message: string }>(url('wrong-ca', '/version'));
    expect(wrongCa.status).toBe(502);
    expect(wrongCa.body.message).toMatch(/TLS verification failed.*check the cluster's ca/);
  });

  it('answers kubectl get pods', async () => {
    requireKubectl();
    const home = await mkdtemp(join(tmpdir(), 'kcp-h2-kubectl-'));
    try {
      const since = fake.requests.length;
      const child = spawn('kubectl', ['--server', url('h2', ''), 'get', 'pods', '-n', 'default', '-o', 'name'], {
        env: { PATH: process.env.PATH, HOME: home, KUBECONFIG: join(home, 'none') },
        cwd: home,
      });
      const result = await completion(child);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.split('\n').filter(Boolean).sort()).toEqual(['pod/web-h2-1', 'pod/web-h2-2', 'pod/worker-h2-1']);
      const list = seen(since, '/api/v1/namespaces/default/pods');
      expect(list.length).toBeGreaterThan(0);
      expect(new Set(list.map((r) => r.httpVersion))).toEqual(new Set(['2.0']));
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
