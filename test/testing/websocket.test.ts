import { bearerSubprotocol } from 'kube-cluster-proxy';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type WebSocket from 'ws';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { channelText, framesUntilClose, openWebSocket, rawUpgrade, type WebSocketAttempt } from './kit-helpers.ts';

let fake: FakeCluster;

beforeAll(async () => {
  fake = await startFakeCluster({ tokens: { 'ws-token': 'carol' } });
});
afterAll(() => fake.close());

const execPath = (command: string[], flags = 'stdout=true&stderr=true') =>
  `/api/v1/namespaces/default/pods/web-fake-1/exec?${command.map((c) => `command=${encodeURIComponent(c)}`).join('&')}&${flags}`;

function opened(attempt: WebSocketAttempt): { ws: WebSocket; protocol: string; responseHeaders: Record<string, string | string[] | undefined> } {
  if (!('ws' in attempt)) throw new Error(`upgrade refused with ${attempt.status}: ${attempt.body}`);
  return attempt;
}

function refused(attempt: WebSocketAttempt): { status: number; body: unknown; contentType: string | undefined } {
  if ('ws' in attempt) {
    attempt.ws.terminate();
    throw new Error('upgrade unexpectedly accepted');
  }
  return { status: attempt.status, body: JSON.parse(attempt.body), contentType: attempt.contentType };
}

const UNAUTHORIZED = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };

describe('exec over WebSocket', () => {
  it('authenticates with the subprotocol token and echoes only the channel protocol', async () => {
    const { ws, protocol, responseHeaders } = opened(
      await openWebSocket(fake, execPath(['echo', 'hello']), [bearerSubprotocol('ws-token'), 'v5.channel.k8s.io']),
    );
    expect(protocol).toBe('v5.channel.k8s.io');
    expect(responseHeaders['sec-websocket-protocol']).toBe('v5.channel.k8s.io');
    const { frames, code } = await framesUntilClose(ws);
    // First the "connected" signal: an empty stdout frame.
    expect(frames[0]).toEqual({ channel: 1, data: Buffer.alloc(0), text: false });
    expect(channelText(frames, 1)).toBe('hello\n');
    expect(JSON.parse(channelText(frames, 3))).toEqual({ metadata: {}, status: 'Success' });
    expect(code).toBe(1000);
    const logged = fake.requests.at(-1);
    expect(logged).toMatchObject({ method: 'GET', user: 'carol', authenticatedBy: 'token', upgrade: true });
  });

  it('refuses a token entry without another subprotocol', async () => {
    const answer = refused(await openWebSocket(fake, execPath(['echo']), [bearerSubprotocol('ws-token')]));
    expect(answer).toEqual({ status: 401, body: UNAUTHORIZED, contentType: 'application/json' });
  });

  it('refuses two token entries', async () => {
    const protocols = [bearerSubprotocol('ws-token'), bearerSubprotocol('ws-token2'), 'v5.channel.k8s.io'];
    expect(refused(await openWebSocket(fake, execPath(['echo']), protocols)).status).toBe(401);
  });

  it('refuses a wrong token, a token that is not base64url-encoded, and no credentials at all', async () => {
    const attempts = [
      [bearerSubprotocol('wrong'), 'v5.channel.k8s.io'],
      ['base64url.bearer.authorization.k8s.io.ws-token', 'v5.channel.k8s.io'], // not encoded
      ['v5.channel.k8s.io'],
    ];
    for (const protocols of attempts) {
      const answer = refused(await openWebSocket(fake, execPath(['echo']), protocols));
      expect(answer).toEqual({ status: 401, body: UNAUTHORIZED, contentType: 'application/json' });
    }
    expect(fake.requests.at(-1)).toMatchObject({ user: null, authenticatedBy: null, upgrade: true });
  });

  it("picks the first supported protocol in the client's order", async () => {
    const { ws, protocol } = opened(
      await openWebSocket(fake, execPath(['sh', '-c', 'exit 2']), ['x.unknown', 'v4.channel.k8s.io', 'v5.channel.k8s.io', bearerSubprotocol('ws-token')]),
    );
    expect(protocol).toBe('v4.channel.k8s.io');
    const { frames } = await framesUntilClose(ws);
    expect(JSON.parse(channelText(frames, 3))).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '2' }] } });
  });

  it('answers 400 when no offered protocol is supported', async () => {
    const answer = refused(await openWebSocket(fake, execPath(['echo']), ['v9.channel.k8s.io'], { Authorization: 'Bearer ws-token' }));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ reason: 'BadRequest', message: expect.stringContaining('v5.channel.k8s.io') as unknown });
  });

  it('speaks the base64 variant with text frames', async () => {
    const { ws } = opened(await openWebSocket(fake, execPath(['echo', 'b64']), ['v4.base64.channel.k8s.io'], { Authorization: 'Bearer ws-token' }));
    const { frames } = await framesUntilClose(ws);
    expect(frames.every((frame) => frame.text)).toBe(true);
    // Text frames: the first character is '0' + channel, the rest standard base64.
    const stdout = frames.filter((frame) => frame.channel === 0x31).map((frame) => Buffer.from(frame.data.toString(), 'base64').toString());
    expect(stdout.join('')).toBe('b64\n');
  });

  it('reports a failure as text on the error channel with the oldest protocol, and nothing on success', async () => {
    const headers = { Authorization: 'Bearer ws-token' };
    const failing = opened(await openWebSocket(fake, execPath(['false']), ['channel.k8s.io'], headers));
    expect(channelText((await framesUntilClose(failing.ws)).frames, 3)).toBe(
      'command terminated with non-zero exit code: error executing command [false], exit code 1',
    );
    const succeeding = opened(await openWebSocket(fake, execPath(['true']), ['channel.k8s.io'], headers));
    expect(channelText((await framesUntilClose(succeeding.ws)).frames, 3)).toBe('');
  });

  it('half-closes stdin with the v5 CLOSE signal', async () => {
    const { ws } = opened(
      await openWebSocket(fake, execPath(['cat'], 'stdin=true&stdout=true'), ['v5.channel.k8s.io'], { Authorization: 'Bearer ws-token' }),
    );
    const result = framesUntilClose(ws);
    ws.send(Buffer.from('\x00ping'));
    ws.send(Buffer.from([255, 0]));
    const { frames } = await result;
    expect(channelText(frames, 1)).toBe('ping');
    expect(JSON.parse(channelText(frames, 3))).toEqual({ metadata: {}, status: 'Success' });
  });

  it('ends cat when the client goes away (v4 has no CLOSE signal)', async () => {
    const { ws } = opened(
      await openWebSocket(fake, execPath(['cat'], 'stdin=true&stdout=true'), ['v4.channel.k8s.io'], { Authorization: 'Bearer ws-token' }),
    );
    await vi.waitFor(() => expect(fake.activeStreams('exec')).toBe(1));
    ws.terminate();
    await vi.waitFor(() => expect(fake.activeStreams('exec')).toBe(0));
  });

  it('prints the terminal size sent on the resize channel', async () => {
    const { ws } = opened(
      await openWebSocket(fake, execPath(['tty-size'], 'stdin=true&stdout=true&tty=true'), ['v5.channel.k8s.io'], { Authorization: 'Bearer ws-token' }),
    );
    const result = framesUntilClose(ws);
    ws.send(Buffer.concat([Buffer.of(4), Buffer.from(JSON.stringify({ Width: 120, Height: 40 }))]));
    expect(channelText((await result).frames, 1)).toBe('120x40\n');
  });

  it('streams bulk output intact (bytes N)', async () => {
    const size = 3 * 1024 * 1024 + 5;
    const { ws } = opened(await openWebSocket(fake, execPath(['bytes', String(size)]), ['v5.channel.k8s.io'], { Authorization: 'Bearer ws-token' }));
    const { frames } = await framesUntilClose(ws);
    const output = Buffer.concat(frames.filter((frame) => frame.channel === 1).map((frame) => frame.data));
    expect(output.length).toBe(size);
    expect(output.every((byte, index) => byte === index % 256)).toBe(true);
    expect(JSON.parse(channelText(frames, 3))).toEqual({ metadata: {}, status: 'Success' });
  });

  it('attaches to the main process, which echoes stdin', async () => {
    const path = '/api/v1/namespaces/default/pods/web-fake-2/attach?stdin=true&stdout=true';
    const { ws } = opened(await openWebSocket(fake, path, ['v5.channel.k8s.io'], { Authorization: 'Bearer ws-token' }));
    expect(fake.activeStreams('attach')).toBe(1);
    const result = framesUntilClose(ws);
    const payload = randomBytes(1000);
    ws.send(Buffer.concat([Buffer.of(0), payload]));
    ws.send(Buffer.of(255, 0));
    const { frames } = await result;
    expect(Buffer.concat(frames.filter((frame) => frame.channel === 1).map((frame) => frame.data)).equals(payload)).toBe(true);
  });

  it('accepts a POST upgrade and refuses upgrade tokens other than WebSocket and SPDY with a 400 Status', async () => {
    const websocketHeaders = {
      Authorization: 'Bearer ws-token',
      Upgrade: 'websocket',
      'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Protocol': 'v5.channel.k8s.io',
    };
    const post = await rawUpgrade(fake, 'POST', execPath(['sleep', '1']), websocketHeaders);
    expect(post.status).toBe(101);
    expect(post.headers['sec-websocket-protocol']).toBe('v5.channel.k8s.io');
    expect(fake.requests.at(-1)).toMatchObject({ method: 'POST', upgrade: true });

    const h2c = await rawUpgrade(fake, 'POST', execPath(['echo']), { Authorization: 'Bearer ws-token', Upgrade: 'h2c' });
    expect(h2c.status).toBe(400);
    expect(JSON.parse(h2c.body)).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400, message: expect.stringContaining('WebSocket and SPDY/3.1') });
  });

  it('refuses bad exec requests with a Status: unknown pod, no command, no streams, plain HTTP', async () => {
    const headers = { Authorization: 'Bearer ws-token' };
    const missing = refused(await openWebSocket(fake, '/api/v1/namespaces/default/pods/nope/exec?command=ls&stdout=true', ['v5.channel.k8s.io'], headers));
    expect(missing).toMatchObject({ status: 404, body: { reason: 'NotFound', message: 'pods "nope" not found' } });
    const noCommand = refused(await openWebSocket(fake, '/api/v1/namespaces/default/pods/web-fake-1/exec?stdout=true', ['v5.channel.k8s.io'], headers));
    expect(noCommand).toMatchObject({ status: 400, body: { message: 'you must specify at least one command for the container' } });
    const noStreams = refused(await openWebSocket(fake, execPath(['ls'], 'tty=false'), ['v5.channel.k8s.io'], headers));
    expect(noStreams).toMatchObject({ status: 400, body: { message: 'you must specify at least 1 of stdin, stdout, stderr' } });
    const badFlag = refused(await openWebSocket(fake, execPath(['ls'], 'stdout=maybe'), ['v5.channel.k8s.io'], headers));
    expect(badFlag.status).toBe(400);
    const viaHttp = await rawUpgrade(fake, 'GET', execPath(['ls']), { ...headers, Connection: 'keep-alive' });
    expect(viaHttp.status).toBe(400);
    expect(JSON.parse(viaHttp.body)).toMatchObject({ message: 'Upgrade request required' });
  });
});

describe('watch and logs over WebSocket', () => {
  it('sends one watch event per text message', async () => {
    const { ws, protocol } = opened(await openWebSocket(fake, '/api/v1/namespaces/default/pods?watch=true', [bearerSubprotocol('ws-token'), 'base64.binary.k8s.io']));
    expect(protocol).toBe('base64.binary.k8s.io');
    const events: { type: string; name: string; isBinary: boolean }[] = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const event = JSON.parse(data.toString()) as { type: string; object: { metadata: { name: string } } };
      events.push({ type: event.type, name: event.object.metadata.name, isBinary });
    });
    await vi.waitFor(() => expect(events).toHaveLength(3));
    fake.addPod({ name: 'ws-watched' });
    await vi.waitFor(() => expect(events.at(-1)).toEqual({ type: 'ADDED', name: 'ws-watched', isBinary: false }));
    expect(events.every((event) => !event.isBinary)).toBe(true);
    expect(fake.activeStreams('watch')).toBe(1);
    ws.close();
    await vi.waitFor(() => expect(fake.activeStreams('watch')).toBe(0));
    fake.deletePod('default', 'ws-watched');
  });

  it('sends log data as binary messages, or base64 text with base64.binary.k8s.io', async () => {
    const path = '/api/v1/namespaces/default/pods/worker-fake-1/log?tailLines=1';
    const binary = opened(await openWebSocket(fake, path, ['binary.k8s.io'], { Authorization: 'Bearer ws-token' }));
    const binaryFrames = await framesUntilClose(binary.ws);
    expect(binaryFrames.code).toBe(1000);
    expect(binaryFrames.frames.map((frame) => [frame.text, Buffer.concat([Buffer.of(frame.channel), frame.data]).toString()])).toEqual([
      [false, 'processed job 1\n'],
    ]);
    const base64 = opened(await openWebSocket(fake, path, ['base64.binary.k8s.io'], { Authorization: 'Bearer ws-token' }));
    const base64Frames = await framesUntilClose(base64.ws);
    const decoded = base64Frames.frames.map((frame) => Buffer.from(Buffer.concat([Buffer.of(frame.channel), frame.data]).toString(), 'base64').toString());
    expect(decoded).toEqual(['processed job 1\n']);
  });

  it('refuses requests that cannot stream over WebSocket, before the handshake', async () => {
    const headers = { Authorization: 'Bearer ws-token' };
    const list = refused(await openWebSocket(fake, '/api/v1/namespaces/default/pods', ['binary.k8s.io'], headers));
    expect(list).toMatchObject({ status: 400, body: { message: 'only watch and log requests can be served over WebSocket' } });
    const missing = refused(await openWebSocket(fake, '/api/v1/namespaces/default/pods/nope/log', [], headers));
    expect(missing).toMatchObject({ status: 404, body: { reason: 'NotFound' } });
    const wrongProtocol = refused(await openWebSocket(fake, '/api/v1/pods?watch=1', ['v5.channel.k8s.io'], headers));
    expect(wrongProtocol.status).toBe(400);
  });
});
