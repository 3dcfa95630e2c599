import { bearerSubprotocol } from 'kube-cluster-proxy';
import { connect } from 'node:tls';
import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { channelText, framesUntilClose, httpRequest, openWebSocket, rawUpgrade, streamLines } from './kit-helpers.ts';

const ADMIN = { Authorization: 'Bearer admin-token' };
const UNAUTHORIZED_BODY = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };

let fake: FakeCluster;

beforeAll(async () => {
  fake = await startFakeCluster({
    tokens: { 'admin-token': { user: 'admin', groups: ['system:masters'] }, 'dev-token': 'dev' },
    clientCertificates: true,
  });
});
afterAll(() => fake.close());

const json = (body: string): unknown => JSON.parse(body);
const whoami = (headers: Record<string, string | string[]>, extra: { cert?: string; key?: string } = {}) =>
  httpRequest(fake, '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1' }),
    ...extra,
  });

describe('authentication', () => {
  it('answers 401 with a Status for missing and unknown credentials, and logs the attempt', async () => {
    const attempts: Record<string, string>[] = [{}, { Authorization: 'Bearer nope' }, { Authorization: 'Basic YTpi' }];
    for (const headers of attempts) {
      const answer = await httpRequest(fake, '/api/v1/pods', { headers });
      expect(answer.status).toBe(401);
      expect(answer.headers['content-type']).toBe('application/json');
      expect(json(answer.body)).toEqual(UNAUTHORIZED_BODY);
      expect(fake.requests.at(-1)).toMatchObject({ path: '/api/v1/pods', user: null, authenticatedBy: null, upgrade: false });
    }
  });

  it('logs every request with its path, headers and user; clearRequests empties the log', async () => {
    fake.clearRequests();
    expect(fake.requests).toHaveLength(0);
    await httpRequest(fake, '/api/v1/namespaces/default/pods?labelSelector=app%3Dweb', { headers: { ...ADMIN, 'X-Trace': 'abc' } });
    expect(fake.requests).toHaveLength(1);
    const [entry] = fake.requests;
    expect(entry).toMatchObject({
      method: 'GET',
      path: '/api/v1/namespaces/default/pods?labelSelector=app%3Dweb',
      user: 'admin',
      authenticatedBy: 'token',
      upgrade: false,
    });
    expect(entry?.headers['x-trace']).toBe('abc');
    expect(entry?.headers.authorization).toBe('Bearer admin-token');
    expect(entry?.time).toBeInstanceOf(Date);
  });

  it('keeps the most recent requests up to requestLogLimit', async () => {
    const small = await startFakeCluster({ pods: [], tokens: { t: 'u' }, requestLogLimit: 2 });
    try {
      for (const path of ['/version', '/api', '/apis']) await httpRequest(small, path, { headers: { Authorization: 'Bearer t' } });
      expect(small.requests.map((request) => request.path)).toEqual(['/api', '/apis']);
    } finally {
      await small.close();
    }
    await expect(startFakeCluster({ requestLogLimit: -1 })).rejects.toThrow(/requestLogLimit must be a non-negative integer/);
  });

  it('adds tokens at run time', async () => {
    expect((await whoami({ Authorization: 'Bearer late-token' })).status).toBe(401);
    fake.addToken('late-token', 'late', ['g']);
    expect(json((await whoami({ Authorization: 'Bearer late-token' })).body)).toMatchObject({
      kind: 'SelfSubjectReview',
      status: { userInfo: { username: 'late', groups: ['g', 'system:authenticated'] } },
    });
  });

  it('authenticates client certificates signed by its CA (CN = user, O = groups), before tokens', async () => {
    const { cert, key } = fake.issueClientCertificate('frank', ['team-a', 'team-b']);
    const answer = await whoami({ Authorization: 'Bearer dev-token' }, { cert, key });
    expect(json(answer.body)).toMatchObject({ status: { userInfo: { username: 'frank', groups: ['team-a', 'team-b', 'system:authenticated'] } } });
    expect(fake.requests.at(-1)).toMatchObject({ user: 'frank', authenticatedBy: 'certificate' });
  });

  it("ignores a certificate from another fake's CA", async () => {
    const other = await startFakeCluster({ name: 'other', pods: [] });
    try {
      const { cert, key } = other.issueClientCertificate('mallory', ['system:masters']);
      expect((await whoami({}, { cert, key })).status).toBe(401);
      expect(json((await whoami(ADMIN, { cert, key })).body)).toMatchObject({ status: { userInfo: { username: 'admin' } } });
    } finally {
      await other.close();
    }
  });

  it('does not authenticate certificates unless clientCertificates is enabled', async () => {
    const plain = await startFakeCluster({ pods: [] });
    try {
      const { cert, key } = plain.issueClientCertificate('grace');
      const answer = await httpRequest(plain, '/version', { cert, key });
      expect(answer.status).toBe(401);
    } finally {
      await plain.close();
    }
  });

  it('serves a certificate that only its own CA verifies', async () => {
    const other = await startFakeCluster({ pods: [] });
    try {
      const socket = connect({ host: '127.0.0.1', port: fake.port, ca: other.ca, servername: 'localhost' });
      const [error] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
      expect(error.code).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER_CERT/);
    } finally {
      await other.close();
    }
  });
});

describe('impersonation', () => {
  it('lets system:masters impersonate a user, groups, uid and extra', async () => {
    const answer = await whoami({
      ...ADMIN,
      'Impersonate-User': 'jane',
      'Impersonate-Group': ['devs', 'qa'],
      'Impersonate-Uid': 'u-1',
      'Impersonate-Extra-Scopes': 'view',
    });
    expect(json(answer.body)).toMatchObject({
      status: { userInfo: { username: 'jane', uid: 'u-1', groups: ['devs', 'qa', 'system:authenticated'], extra: { scopes: ['view'] } } },
    });
    expect(fake.requests.at(-1)).toMatchObject({ user: 'jane', authenticatedBy: 'token' });
  });

  it('forbids impersonation to other users', async () => {
    const answer = await whoami({ Authorization: 'Bearer dev-token', 'Impersonate-User': 'admin' });
    expect(answer.status).toBe(403);
    expect(json(answer.body)).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403, message: expect.stringContaining('impersonation not allowed') as unknown });
    expect(fake.requests.at(-1)).toMatchObject({ user: null });
  });

  it('refuses impersonating groups without a user', async () => {
    const answer = await whoami({ ...ADMIN, 'Impersonate-Group': 'devs' });
    expect(answer.status).toBe(500);
    expect(json(answer.body)).toMatchObject({ reason: 'InternalError' });
  });

  it('honours the impersonators option and impersonation on WebSocket upgrades', async () => {
    const custom = await startFakeCluster({ tokens: { t: 'bot' }, impersonators: ['bot'] });
    try {
      const attempt = await openWebSocket(custom, '/api/v1/namespaces/default/pods/web-fake-1/exec?command=whoami&stdout=true', [bearerSubprotocol('t'), 'v5.channel.k8s.io'], {
        'Impersonate-User': 'kim',
      });
      if (!('ws' in attempt)) throw new Error(attempt.body);
      const { frames } = await framesUntilClose(attempt.ws);
      expect(channelText(frames, 1)).toBe('kim\n');
    } finally {
      await custom.close();
    }
  });
});

describe('API surface', () => {
  it('serves discovery, version and health as plain JSON', async () => {
    const version = await httpRequest(fake, '/version', { headers: ADMIN });
    expect(json(version.body)).toMatchObject({ major: '1', gitVersion: expect.stringMatching(/^v1\./) as unknown });
    const api = await httpRequest(fake, '/api', {
      headers: { ...ADMIN, Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' },
    });
    expect(api.headers['content-type']).toBe('application/json');
    expect(json(api.body)).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const resources = json((await httpRequest(fake, '/api/v1', { headers: ADMIN })).body) as { resources: { name: string }[] };
    expect(resources.resources.map((r) => r.name)).toEqual([
      'configmaps',
      'namespaces',
      'namespaces/status',
      'pods',
      'pods/attach',
      'pods/exec',
      'pods/log',
      'pods/status',
      'secrets',
    ]);
    const groups = json((await httpRequest(fake, '/apis', { headers: ADMIN })).body) as { kind: string; groups: { name: string }[] };
    expect(groups.kind).toBe('APIGroupList');
    expect(groups.groups.map((group) => group.name)).toEqual(['apiextensions.k8s.io', 'apps', 'authentication.k8s.io', 'authorization.k8s.io']);
    for (const path of ['/healthz', '/readyz', '/livez']) expect((await httpRequest(fake, path, { headers: ADMIN })).body).toBe('ok');
  });

  it('answers 404 NotFound Status for unknown paths, pods and namespaces; an unknown namespace lists no pods', async () => {
    const unknown = await httpRequest(fake, '/apis/batch/v1/jobs', { headers: ADMIN });
    expect(unknown.status).toBe(404);
    expect(json(unknown.body)).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
    expect(json((await httpRequest(fake, '/api/v1/namespaces/nope', { headers: ADMIN })).body)).toMatchObject({ message: 'namespaces "nope" not found' });
    expect(json((await httpRequest(fake, '/api/v1/namespaces/default/pods/nope/log', { headers: ADMIN })).body)).toMatchObject({ reason: 'NotFound' });
    expect(json((await httpRequest(fake, '/api/v1/namespaces/nope/pods', { headers: ADMIN })).body)).toMatchObject({ kind: 'PodList', items: [] });
  });

  it('answers 4xx Statuses for malformed input', async () => {
    expect((await whoami(ADMIN)).status).toBe(201);
    const broken = await httpRequest(fake, '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      method: 'POST',
      headers: { ...ADMIN, 'Content-Type': 'application/json' },
      body: '{"kind":',
    });
    expect(broken.status).toBe(400);
    expect(json(broken.body)).toMatchObject({ reason: 'BadRequest' });
    const cases: [string, number][] = [
      ['/api/v1/pods?watch=perhaps', 400],
      ['/api/v1/pods?labelSelector=a%20b%20c', 400],
      ['/api/v1/pods?fieldSelector=spec.unknown%3Dx', 400],
      ['/api/v1/namespaces/default/pods/web-fake-1/log?tailLines=-1', 400],
      ['/api/v1/namespaces/default/pods/web-fake-1/log?container=nope', 400],
      ['/api/v1/namespaces/default/pods?watch=1&resourceVersion=abc', 400],
      ['/api/v1/namespaces/%E0%A4%A/pods', 400],
    ];
    for (const [path, status] of cases) {
      const answer = await httpRequest(fake, path, { headers: ADMIN });
      expect({ path, status: answer.status }).toEqual({ path, status });
      expect(json(answer.body)).toMatchObject({ kind: 'Status', code: status });
    }
    const put = await httpRequest(fake, '/api/v1/namespaces/default/pods/web-fake-1/log', { method: 'PUT', headers: ADMIN });
    expect(put.status).toBe(405);
  });

  it('filters pods with label and field selectors', async () => {
    const names = async (query: string) =>
      (json((await httpRequest(fake, `/api/v1/pods?${query}`, { headers: ADMIN })).body) as { items: { metadata: { name: string } }[] }).items.map(
        (item) => item.metadata.name,
      );
    expect(await names('labelSelector=app%3Dweb')).toEqual(['web-fake-1', 'web-fake-2']);
    expect(await names('labelSelector=app%20in%20(worker%2Cother)')).toEqual(['worker-fake-1']);
    expect(await names('labelSelector=app!%3Dweb')).toEqual(['worker-fake-1']);
    expect(await names('labelSelector=!app')).toEqual([]);
    expect(await names('fieldSelector=metadata.name%3Dweb-fake-2')).toEqual(['web-fake-2']);
    expect(await names('fieldSelector=status.phase%3DRunning,metadata.name!%3Dweb-fake-1')).toEqual(['web-fake-2', 'worker-fake-1']);
  });

  it('returns a meta.k8s.io Table when asked, with partial metadata or full objects', async () => {
    const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
    const table = json((await httpRequest(fake, '/api/v1/namespaces/default/pods', { headers: { ...ADMIN, Accept: accept } })).body) as {
      kind: string;
      columnDefinitions: { name: string }[];
      rows: { cells: string[]; object: { kind: string } }[];
    };
    expect(table.kind).toBe('Table');
    expect(table.columnDefinitions.slice(0, 5).map((c) => c.name)).toEqual(['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    expect(table.rows[0]?.cells.slice(0, 4)).toEqual(['web-fake-1', '1/1', 'Running', '0']);
    expect(table.rows[0]?.object.kind).toBe('PartialObjectMetadata');
    const full = json(
      (await httpRequest(fake, '/api/v1/namespaces/default/pods/web-fake-1?includeObject=Object', { headers: { ...ADMIN, Accept: accept } })).body,
    ) as { rows: { object: { kind: string } }[] };
    expect(full.rows.map((row) => row.object.kind)).toEqual(['Pod']);
  });

  it('deletes a pod through the API', async () => {
    fake.addPod({ name: 'doomed' });
    const answer = await httpRequest(fake, '/api/v1/namespaces/default/pods/doomed', { method: 'DELETE', headers: ADMIN });
    expect(json(answer.body)).toMatchObject({ kind: 'Pod', metadata: { name: 'doomed' } });
    expect((await httpRequest(fake, '/api/v1/namespaces/default/pods/doomed', { headers: ADMIN })).status).toBe(404);
  });
});

describe('watch', () => {
  afterEach(() => expect(fake.activeStreams()).toBe(0));

  it('streams chunked JSON lines: initial ADDED events, then changes, filtered by selectors', async () => {
    const watch = streamLines(fake, '/api/v1/namespaces/default/pods?watch=1&labelSelector=app%3Dweb', 'admin-token');
    expect(await watch.headers).toMatchObject({ 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    await vi.waitFor(() => expect(watch.lines).toHaveLength(2));
    fake.addPod({ name: 'web-3', labels: { app: 'web' } });
    fake.addPod({ name: 'other', labels: { app: 'other' } });
    fake.updatePod('default', 'web-3', { labels: { app: 'web', version: '2' } });
    await vi.waitFor(() => expect(watch.lines).toHaveLength(4));
    const events = watch.lines.map((line) => json(line) as { type: string; object: { metadata: { name: string } } });
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED web-fake-1', 'ADDED web-fake-2', 'ADDED web-3', 'MODIFIED web-3']);
    expect(fake.activeStreams('watch')).toBe(1);
    watch.abort();
    await vi.waitFor(() => expect(fake.activeStreams('watch')).toBe(0));
    fake.deletePod('default', 'web-3');
    fake.deletePod('default', 'other');
  });

  it('sends BOOKMARK events only to watches that allow them', async () => {
    const withBookmarks = streamLines(fake, '/api/v1/pods?watch=1&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan', 'admin-token');
    const without = streamLines(fake, '/api/v1/pods?watch=1', 'admin-token');
    await vi.waitFor(() => expect(withBookmarks.lines).toHaveLength(4));
    await vi.waitFor(() => expect(without.lines).toHaveLength(3));
    const initialEnd = json(withBookmarks.lines[3] ?? '') as { type: string; object: { metadata: { annotations?: Record<string, string>; resourceVersion: string } } };
    expect(initialEnd.type).toBe('BOOKMARK');
    expect(initialEnd.object.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
    fake.sendBookmarks();
    fake.addPod({ name: 'after-bookmark' });
    await vi.waitFor(() => expect(without.lines).toHaveLength(4));
    await vi.waitFor(() => expect(withBookmarks.lines).toHaveLength(6));
    expect(withBookmarks.lines.slice(4).map((line) => (json(line) as { type: string }).type)).toEqual(['BOOKMARK', 'ADDED']);
    expect((json(without.lines[3] ?? '') as { type: string }).type).toBe('ADDED');
    withBookmarks.abort();
    without.abort();
    await vi.waitFor(() => expect(fake.activeStreams('watch')).toBe(0));
    fake.deletePod('default', 'after-bookmark');
  });

  it('watches namespaces, which come and go with their pods', async () => {
    const watch = streamLines(fake, '/api/v1/namespaces?watch=true', 'admin-token');
    await vi.waitFor(() => expect(watch.lines).toHaveLength(1));
    fake.addPod({ name: 'x', namespace: 'team-a' });
    fake.deletePod('team-a', 'x');
    await vi.waitFor(() => expect(watch.lines).toHaveLength(3));
    const events = watch.lines.map((line) => json(line) as { type: string; object: { kind: string; metadata: { name: string } } });
    expect(events.map((e) => `${e.type} ${e.object.kind} ${e.object.metadata.name}`)).toEqual([
      'ADDED Namespace default',
      'ADDED Namespace team-a',
      'DELETED Namespace team-a',
    ]);
    watch.abort();
    await vi.waitFor(() => expect(fake.activeStreams('watch')).toBe(0));
  });

  it('resumes after a resourceVersion and ends cleanly after timeoutSeconds', async () => {
    const list = json((await httpRequest(fake, '/api/v1/namespaces/default/pods', { headers: ADMIN })).body) as { metadata: { resourceVersion: string } };
    fake.addPod({ name: 'after-list' });
    const watch = streamLines(fake, `/api/v1/watch/namespaces/default/pods?resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=1`, 'admin-token');
    await watch.ended;
    expect(watch.lines.map((line) => (json(line) as { type: string }).type)).toEqual(['ADDED']);
    expect(watch.lines[0]).toContain('"after-list"');
    fake.deletePod('default', 'after-list');
  });
});

describe('logs', () => {
  it('honours tailLines, timestamps and limitBytes', async () => {
    const log = (query: string) => httpRequest(fake, `/api/v1/namespaces/default/pods/web-fake-1/log?${query}`, { headers: ADMIN });
    const all = await log('');
    expect(all.headers['content-type']).toBe('text/plain');
    expect(all.body).toBe('[fake] web-fake-1 starting\nlistening on :8080\nGET /healthz 200\n');
    expect((await log('tailLines=2')).body).toBe('listening on :8080\nGET /healthz 200\n');
    expect((await log('tailLines=1&timestamps=true')).body).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z GET \/healthz 200\n$/);
    expect((await log('limitBytes=10')).body).toBe('[fake] web');
    expect((await log('sinceTime=2000-01-01T00:00:00Z&tailLines=1')).body).toBe('GET /healthz 200\n');
    expect((await log('sinceTime=2999-01-01T00:00:00Z')).body).toBe('');
    expect((await log('sinceTime=yesterday')).status).toBe(400);
  });

  it('asks for a container when a pod has several', async () => {
    fake.addPod({ name: 'two', containers: [{ name: 'main', logs: ['m'] }, { name: 'side', logs: ['s'] }] });
    const ambiguous = await httpRequest(fake, '/api/v1/namespaces/default/pods/two/log', { headers: ADMIN });
    expect(json(ambiguous.body)).toMatchObject({ code: 400, message: 'a container name must be specified for pod two, choose one of: [main side]' });
    fake.appendLog('default', 'two', 'more', 'side');
    expect((await httpRequest(fake, '/api/v1/namespaces/default/pods/two/log?container=side', { headers: ADMIN })).body).toBe('s\nmore\n');
    fake.deletePod('default', 'two');
  });

  it('ends a followed log when the client aborts or the pod is deleted', async () => {
    fake.addPod({ name: 'chatty' });
    const first = streamLines(fake, '/api/v1/namespaces/default/pods/chatty/log?follow=true', 'admin-token');
    await first.headers;
    fake.appendLog('default', 'chatty', 'one\ntwo');
    await vi.waitFor(() => expect(first.lines).toEqual(['one', 'two']));
    first.abort();
    await vi.waitFor(() => expect(fake.activeStreams('log')).toBe(0));
    const second = streamLines(fake, '/api/v1/namespaces/default/pods/chatty/log?follow=1', 'admin-token');
    await second.headers;
    fake.deletePod('default', 'chatty');
    await second.ended;
    expect(fake.activeStreams('log')).toBe(0);
  });
});

describe('custom exec handler', () => {
  it('runs user commands, falls back to the built-ins, and reports thrown errors', async () => {
    const custom = await startFakeCluster({
      tokens: { t: 'ops' },
      exec: async (ctx) => {
        if (ctx.argv[0] === 'deploy') {
          ctx.stdout.write(`deploying ${ctx.argv[1] ?? ''} as ${ctx.user} in ${ctx.namespace}/${ctx.pod}/${ctx.container}\n`);
          ctx.exit(4);
          return;
        }
        if (ctx.argv[0] === 'crash') throw new Error('boom');
        if (ctx.argv[0] === 'overflow') return 300;
        return ctx.builtin();
      },
    });
    const run = async (command: string[]) => {
      const query = command.map((c) => `command=${c}`).join('&');
      const attempt = await openWebSocket(custom, `/api/v1/namespaces/default/pods/web-fake-1/exec?${query}&stdout=true`, ['v5.channel.k8s.io'], {
        Authorization: 'Bearer t',
      });
      if (!('ws' in attempt)) throw new Error(attempt.body);
      const { frames } = await framesUntilClose(attempt.ws);
      return { stdout: channelText(frames, 1), status: json(channelText(frames, 3)) };
    };
    try {
      expect(await run(['deploy', 'v2'])).toMatchObject({
        stdout: 'deploying v2 as ops in default/web-fake-1/app\n',
        status: { reason: 'NonZeroExitCode', details: { causes: [{ message: '4' }] } },
      });
      expect(await run(['echo', 'fallback'])).toEqual({ stdout: 'fallback\n', status: { metadata: {}, status: 'Success' } });
      expect(await run(['crash'])).toMatchObject({ status: { status: 'Failure', reason: 'InternalError', message: 'Internal error occurred: boom' } });
      expect(await run(['overflow'])).toMatchObject({ status: { reason: 'InternalError', message: expect.stringContaining('from 0 to 255') as unknown } });
      expect(await run(['nope'])).toMatchObject({ status: { details: { causes: [{ message: '127' }] } } });
    } finally {
      await custom.close();
    }
  });
});

describe('lifecycle', () => {
  it('validates options and pods with clear errors', async () => {
    await expect(startFakeCluster({ name: 'Not A Label' })).rejects.toThrow(/name must be a DNS label/);
    await expect(startFakeCluster({ pods: [{ name: 'UPPER' }] })).rejects.toThrow(/pod name must be a DNS-1123 subdomain/);
    expect(() => fake.addPod({ name: 'web-fake-1' })).toThrow(/already exists/);
    expect(() => fake.updatePod('default', 'ghost', { phase: 'Failed' })).toThrow(/does not exist/);
    expect(() => fake.appendLog('default', 'web-fake-1', 'x', 'nope')).toThrow(/no container "nope"/);
  });

  it('returns the cluster config shape for the proxy', () => {
    expect(fake.clusterConfig('east')).toEqual({ name: 'east', server: fake.url, ca: fake.ca });
    expect(fake.clusterConfig('east', { token: 't' })).toEqual({ name: 'east', server: fake.url, ca: fake.ca, credentials: { token: 't' } });
    expect(fake.url).toBe(`https://127.0.0.1:${fake.port}`);
  });

  it('survives misbehaving clients', async () => {
    const garbage = connect({ host: '127.0.0.1', port: fake.port, ca: fake.ca, servername: 'localhost' });
    await once(garbage, 'secureConnect');
    garbage.end('NOT HTTP AT ALL\r\n\r\n');
    await once(garbage, 'close');

    const attempt = await openWebSocket(fake, '/api/v1/namespaces/default/pods/web-fake-1/exec?command=bytes&command=100000000&stdout=true', ['v5.channel.k8s.io'], ADMIN);
    if (!('ws' in attempt)) throw new Error(attempt.body);
    await once(attempt.ws, 'message');
    attempt.ws.terminate();

    const watch = streamLines(fake, '/api/v1/pods?watch=true', 'admin-token');
    await watch.headers;
    watch.abort();
    fake.addPod({ name: 'after-abort' });
    fake.deletePod('default', 'after-abort');

    const keyless = await rawUpgrade(fake, 'GET', '/api/v1/namespaces/default/pods/web-fake-1/exec?command=ls&stdout=true', {
      ...ADMIN,
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
    });
    expect(keyless.status).toBe(400);

    await vi.waitFor(() => expect(fake.activeStreams()).toBe(0));
    expect((await httpRequest(fake, '/healthz', { headers: ADMIN })).body).toBe('ok');
  });

  it('closes promptly with open watches, followed logs and exec sessions', async () => {
    const doomed = await startFakeCluster({ tokens: { t: 'u' } });
    const watch = streamLines(doomed, '/api/v1/pods?watch=true', 't');
    const follow = streamLines(doomed, '/api/v1/namespaces/default/pods/web-fake-1/log?follow=true', 't');
    const attempt = await openWebSocket(doomed, '/api/v1/namespaces/default/pods/web-fake-1/exec?command=sleep&command=600&stdout=true', ['v5.channel.k8s.io'], {
      Authorization: 'Bearer t',
    });
    if (!('ws' in attempt)) throw new Error(attempt.body);
    const wsClosed = once(attempt.ws, 'close');
    await Promise.all([watch.headers, follow.headers]);
    expect(doomed.activeStreams()).toBe(3);
    await doomed.close();
    await Promise.all([watch.ended, follow.ended, wsClosed]);
    expect(doomed.activeStreams()).toBe(0);
    await expect(httpRequest(doomed, '/version')).rejects.toThrow();
  });
});
