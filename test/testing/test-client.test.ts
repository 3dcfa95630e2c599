import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, testClient, TestClientError, type FakeCluster, type TestClient } from 'kube-cluster-proxy/testing';
import { closeServer, listen } from '../helpers/servers.ts';

const TOKEN = 'alice-token';
let fake: FakeCluster;
let client: TestClient;

beforeAll(async () => {
  fake = await startFakeCluster({ name: 'kit', tokens: { [TOKEN]: 'alice' } });
  client = testClient(fake.url, { token: TOKEN, ca: fake.ca });
});
afterAll(() => fake.close());

interface PodList {
  items: { metadata?: { name?: string } }[];
}
const podNames = (body: PodList) => body.items.map((pod) => pod.metadata?.name);

describe('testClient against a fake cluster over HTTPS', () => {
  it('gets JSON parsed and text as text, and returns error statuses instead of throwing', async () => {
    const pods = await client.get<PodList>('/api/v1/namespaces/default/pods');
    expect(pods.status).toBe(200);
    expect(pods.headers['content-type']).toBe('application/json');
    expect(podNames(pods.body)).toEqual(['web-kit-1', 'web-kit-2', 'worker-kit-1']);

    const log = await client.get<string>('/api/v1/namespaces/default/pods/web-kit-1/log');
    expect(log.body).toBe('[kit] web-kit-1 starting\nlistening on :8080\nGET /healthz 200\n');

    const missing = await client.get('/api/v1/namespaces/default/pods/nope');
    expect(missing).toMatchObject({ status: 404, body: { kind: 'Status', reason: 'NotFound', message: 'pods "nope" not found' } });

    const anonymous = await testClient(fake.url, { ca: fake.ca }).get('/api/v1/pods');
    expect(anonymous.status).toBe(401);
  });

  it('sends writes: an object as JSON, then a DELETE', async () => {
    const review = await client.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      kind: 'SelfSubjectReview',
      apiVersion: 'authentication.k8s.io/v1',
    });
    expect(review.status).toBe(201);
    expect(review.body.status).toMatchObject({ userInfo: { username: 'alice' } });
    expect(fake.requests.at(-1)?.headers['content-type']).toBe('application/json');

    fake.addPod({ name: 'doomed' });
    expect((await client.request('DELETE', '/api/v1/namespaces/default/pods/doomed')).status).toBe(200);
    expect((await client.get('/api/v1/namespaces/default/pods/doomed')).status).toBe(404);
  });

  it('runs exec over v5: stdout, stderr, stdin closed at its end, exit codes', async () => {
    const echo = await client.exec('default', 'web-kit-1', ['echo', 'hello', 'world']);
    expect(echo).toEqual({ stdout: 'hello world\n', stderr: '', status: { metadata: {}, status: 'Success' }, exitCode: 0, protocol: 'v5.channel.k8s.io' });

    const cat = await client.exec('default', 'web-kit-1', ['cat'], { stdin: 'line 1\nline 2\n' });
    expect(cat.stdout).toBe('line 1\nline 2\n');

    const stderr = await client.exec('default', 'web-kit-1', ['stderr', 'oops']);
    expect(stderr).toMatchObject({ stdout: '', stderr: 'oops\n', exitCode: 0 });

    const failed = await client.exec('default', 'web-kit-1', ['sh', '-c', 'exit 3']);
    expect(failed).toMatchObject({ exitCode: 3, status: { status: 'Failure', reason: 'NonZeroExitCode' } });
    const seen = fake.requests.at(-1);
    expect(seen?.path).toBe('/api/v1/namespaces/default/pods/web-kit-1/exec?command=sh&command=-c&command=exit+3&stdout=true&stderr=true');
    expect(seen?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('asks for a terminal with tty (stderr merged into stdout) and picks the container', async () => {
    fake.addPod({ name: 'two', containers: [{ name: 'first' }, { name: 'second' }] });
    try {
      expect(await client.exec('default', 'web-kit-1', ['stderr', 'oops'], { tty: true })).toMatchObject({ stdout: 'oops\n', stderr: '' });
      const env = await client.exec('default', 'two', ['env'], { tty: true, container: 'second' });
      expect(env.stdout).toContain('TERM=xterm');
      expect(fake.requests.at(-1)?.path).toBe('/api/v1/namespaces/default/pods/two/exec?command=env&container=second&stdout=true&stderr=false&tty=true');
    } finally {
      fake.deletePod('default', 'two');
    }
  });

  it('carries the token in the WebSocket subprotocol with tokenIn: subprotocol, not in a header', async () => {
    const browserLike = testClient(fake.url, { token: TOKEN, tokenIn: 'subprotocol', ca: fake.ca });
    expect((await browserLike.exec('default', 'web-kit-1', ['whoami'])).stdout).toBe('alice\n');
    const seen = fake.requests.at(-1);
    expect(seen?.headers.authorization).toBeUndefined();
    expect(seen?.headers['sec-websocket-protocol']).toBe(
      `base64url.bearer.authorization.k8s.io.${Buffer.from(TOKEN).toString('base64url')},v5.channel.k8s.io,v4.channel.k8s.io`,
    );
    // Plain requests still use the header, as a browser's fetch does.
    expect((await browserLike.get('/api/v1/pods')).status).toBe(200);
  });

  it('throws a TestClientError with the Status message and code when the exec upgrade is refused', async () => {
    const missing = client.exec('default', 'nope', ['true']);
    await expect(missing).rejects.toBeInstanceOf(TestClientError);
    await expect(missing).rejects.toMatchObject({
      code: 404,
      reason: 'NotFound',
      message: 'the exec upgrade of default/nope [true] was answered 404 NotFound: pods "nope" not found',
    });
    const anonymous = testClient(fake.url, { ca: fake.ca }).exec('default', 'web-kit-1', ['true']);
    await expect(anonymous).rejects.toMatchObject({ code: 401, reason: 'Unauthorized', body: { kind: 'Status', code: 401 } });
  });

  it('watches: initial ADDED events, then live changes; close() ends the watch on the server', async () => {
    const events = await client.watch('/api/v1/namespaces/default/pods?labelSelector=app%3Dweb');
    expect(fake.requests.at(-1)?.path).toBe('/api/v1/namespaces/default/pods?labelSelector=app%3Dweb&watch=1');
    fake.addPod({ name: 'web-new', labels: { app: 'web' } });
    fake.deletePod('default', 'web-new');
    const seen: string[] = [];
    for await (const event of events) {
      seen.push(`${event.type} ${event.object.metadata?.name}`);
      if (event.type === 'DELETED') break;
    }
    expect(seen).toEqual(['ADDED web-kit-1', 'ADDED web-kit-2', 'ADDED web-new', 'DELETED web-new']);
    await expect.poll(() => fake.activeStreams('watch'), { timeout: 5_000 }).toBe(0);
    expect(await events.next()).toEqual({ done: true, value: undefined });
  });

  it('ends an iteration in progress on close(), and on Symbol.asyncDispose', async () => {
    const pods = podNames((await client.get<PodList>('/api/v1/namespaces/default/pods')).body);
    const events = await client.watch('/api/v1/namespaces/default/pods');
    const names: string[] = [];
    const drained = (async () => {
      for await (const event of events) names.push(event.object.metadata?.name ?? '');
    })();
    await expect.poll(() => names, { timeout: 5_000 }).toEqual(pods);
    events.close();
    await drained;
    const disposed = await client.watch('/api/v1/pods');
    expect(fake.activeStreams('watch')).toBeGreaterThan(0);
    await disposed[Symbol.asyncDispose]();
    await expect.poll(() => fake.activeStreams('watch'), { timeout: 5_000 }).toBe(0);
  });

  it('throws a TestClientError when a watch is refused', async () => {
    await expect(client.watch('/api/v1/pods?labelSelector=%3D%3D')).rejects.toMatchObject({ code: 400, reason: 'BadRequest' });
  });

  it('reads logs as text, or follows them as chunks until the pod goes', async () => {
    expect(await client.logs('default', 'worker-kit-1', { tailLines: 1 })).toBe('processed job 1\n');
    fake.addPod({ name: 'follow-me', containers: [{ name: 'app', logs: ['first'] }] });
    const chunks = await client.logs('default', 'follow-me', { follow: true });
    expect(fake.requests.at(-1)?.path).toBe('/api/v1/namespaces/default/pods/follow-me/log?follow=true');
    fake.appendLog('default', 'follow-me', 'second');
    let text = '';
    for await (const chunk of chunks) {
      text += chunk;
      if (text.includes('second')) fake.deletePod('default', 'follow-me');
    }
    expect(text).toBe('first\nsecond\n');
    await expect(client.logs('default', 'nope')).rejects.toMatchObject({ code: 404, message: expect.stringContaining('pods "nope" not found') });
  });

  it('rejects invalid arguments with messages that name them', async () => {
    expect(() => testClient('127.0.0.1:8080')).toThrow('baseUrl must be an absolute URL');
    expect(() => testClient('ftp://127.0.0.1/')).toThrow('baseUrl must use http: or https:, got "ftp:"');
    expect(() => testClient('http://127.0.0.1/clusters/dev?x=1')).toThrow('baseUrl must have no query or fragment');
    expect(() => testClient(fake.url, { token: '' })).toThrow('token must be a non-empty string (is an environment variable unset?)');
    expect(() => testClient(fake.url, { tokenIn: 'cookie' as 'header' })).toThrow(`tokenIn must be 'header' or 'subprotocol', got "cookie"`);
    expect(() => testClient(fake.url, { ca: 42 as unknown as string })).toThrow('ca must be a PEM string or Buffer');
    await expect(client.get('api/v1/pods')).rejects.toThrow('a path must start with "/"');
    await expect(client.exec('default', 'web-kit-1', [])).rejects.toThrow('command must be a non-empty array of strings');
  });

  it('names the URL when the server cannot be reached', async () => {
    const closed = await startFakeCluster();
    await closed[Symbol.asyncDispose]();
    await expect(testClient(closed.url, { ca: closed.ca }).get('/version')).rejects.toThrow(`GET ${closed.url}/version: connect ECONNREFUSED`);
  });
});

describe('testClient against servers that speak older or broken protocols', () => {
  /** A WebSocket server that only speaks v4.channel.k8s.io and answers each exec with `frames`. */
  async function v4Server(frames: Buffer[]) {
    const received: Buffer[] = [];
    const server = createServer();
    const wss = new WebSocketServer({ server, handleProtocols: (offered) => (offered.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false) });
    wss.on('connection', (ws) => {
      ws.on('message', (data: Buffer) => received.push(data));
      // After the client had a chance to send stdin.
      setTimeout(() => {
        for (const frame of frames) ws.send(frame);
        ws.close(1000);
      }, 50);
    });
    const url = await listen(server);
    return { url, received, close: () => closeServer(server) };
  }

  it('falls back to v4, sending stdin without the v5 close message', async () => {
    const server = await v4Server([Buffer.from('\x01out'), Buffer.from('\x03{"metadata":{},"status":"Success"}')]);
    try {
      const result = await testClient(server.url).exec('default', 'pod', ['cat'], { stdin: 'in' });
      expect(result).toMatchObject({ stdout: 'out', exitCode: 0, protocol: 'v4.channel.k8s.io' });
      expect(server.received).toEqual([Buffer.from('\x00in')]);
    } finally {
      await server.close();
    }
  });

  it('rejects when the connection closes before the exit status', async () => {
    const server = await v4Server([Buffer.from('\x01partial')]);
    try {
      await expect(testClient(server.url).exec('default', 'pod', ['true'])).rejects.toThrow(
        "exec default/pod [true]: the connection closed (code 1000) before the command's exit status arrived",
      );
    } finally {
      await server.close();
    }
  });

  it('delivers a followed log larger than its queue bound intact, pausing the response meanwhile', async () => {
    const line = `${'x'.repeat(1023)}\n`;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      for (let i = 0; i < 4096; i++) res.write(line);
      res.end();
    });
    const url = await listen(server);
    try {
      const chunks = await testClient(url).logs('default', 'pod', { follow: true });
      // Let the whole answer arrive before reading any of it.
      await new Promise((resolve) => setTimeout(resolve, 200));
      let length = 0;
      for await (const chunk of chunks) length += chunk.length;
      expect(length).toBe(4096 * 1024);
    } finally {
      await closeServer(server);
    }
  });

  it('ends a watch with an error naming the line the server garbled', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n<html>oops</html>\n');
    });
    const url = await listen(server);
    try {
      const events = await testClient(url).watch('/api/v1/pods');
      expect((await events.next()).value).toEqual({ type: 'ADDED', object: { metadata: { name: 'a' } } });
      await expect(events.next()).rejects.toThrow('watch: the server sent a line that is not JSON: <html>oops</html>');
    } finally {
      await closeServer(server);
    }
  });
});
