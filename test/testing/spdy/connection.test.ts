import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { encodeGoAway, encodePing, encodeSynStream, type Frame } from '../../../src/testing/spdy/frames.ts';
import { openSpdy, type SpdyClient } from '../../helpers/spdy-client.ts';

let fake: FakeCluster;

beforeAll(async () => {
  fake = await startFakeCluster({ name: 'spdy', tokens: { t: 'tester' }, pods: [{ name: 'web', ports: { 8080: (_req, res) => res.end('ok') } }] });
});
afterAll(() => fake.close());

const PORT_FORWARD = '/api/v1/namespaces/default/pods/web/portforward';

async function connect(path = PORT_FORWARD, protocol = 'portforward.k8s.io'): Promise<SpdyClient> {
  const attempt = await openSpdy(fake.url, fake.ca, path, { Authorization: 'Bearer t', 'X-Stream-Protocol-Version': protocol });
  if (!('client' in attempt)) throw new Error(`refused: ${attempt.status} ${attempt.body}`);
  expect(attempt.client.headers).toMatchObject({ upgrade: 'SPDY/3.1', 'x-stream-protocol-version': protocol });
  return attempt.client;
}

const isGoAway = (frame: Frame): frame is Frame & { type: 'goaway' } => frame.type === 'goaway';

/** The fake still serves: a fresh port-forward reaches the pod. */
async function stillServes(): Promise<void> {
  const client = await connect();
  await client.open(1, { streamtype: 'error', port: '8080', requestid: '0' });
  await client.open(3, { streamtype: 'data', port: '8080', requestid: '0' });
  client.data(3, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
  await vi.waitFor(() => expect(client.received(3).toString()).toMatch(/\r\n\r\nok$/));
  client.socket.destroy();
}

describe('the fake SPDY/3.1 server', () => {
  it('answers pings and ends politely on GOAWAY', async () => {
    const client = await connect();
    client.raw(encodePing(7));
    expect(await client.frame((frame) => frame.type === 'ping')).toEqual({ type: 'ping', id: 7 });
    client.raw(encodeGoAway(0, 0));
    await client.closed;
    expect(client.frames.find(isGoAway)).toMatchObject({ status: 0 });
  });

  it('resets port-forward streams with a bad port or stream type, as the kubelet does', async () => {
    const client = await connect();
    const cases: Record<string, string>[] = [{ port: '0' }, { port: '70000' }, { port: 'http' }, {}, { port: '8080', streamtype: 'video' }];
    for (const [index, headers] of cases.entries()) await client.open(index * 2 + 1, { streamtype: 'data', requestid: String(index), ...headers });
    for (const index of cases.keys()) {
      expect(await client.frame((frame) => frame.type === 'rst_stream' && frame.streamId === index * 2 + 1)).toMatchObject({ status: 5 });
    }
    client.socket.destroy();
    await stillServes();
  });

  it.each([
    ['garbage instead of frames', Buffer.from('GET / HTTP/1.1\r\n\r\nthis is not SPDY at all')],
    ['a header block that is not zlib', encodeSynStream(1, Buffer.from('definitely not deflate'))],
    ['a header block compressed with another dictionary', encodeSynStream(1, deflateSync(Buffer.from([0, 0, 0, 0]), { dictionary: Buffer.from('another dictionary') }))],
    ['data for a stream never opened', Buffer.from([0, 0, 0, 9, 0, 0, 0, 1, 0])],
    ['an even stream id', encodeSynStream(2, deflateSync(Buffer.from([0, 0, 0, 0]), { dictionary: Buffer.alloc(0) }))],
    ['a control frame of 1 MiB', Buffer.concat([Buffer.from([0x80, 3, 0, 1, 0, 0x10, 0, 0]), Buffer.alloc(1 << 20)])],
  ])('ends the connection with GOAWAY PROTOCOL_ERROR on %s, and keeps serving', async (_name, bytes) => {
    const client = await connect();
    client.raw(bytes);
    await client.closed;
    expect(client.frames.find(isGoAway)).toMatchObject({ status: 1 });
    await stillServes();
  });

  it('resets exec streams of an unexpected type and gives up on an incomplete set', async () => {
    const client = await connect('/api/v1/namespaces/default/pods/web/exec?command=whoami&stdout=true', 'v4.channel.k8s.io');
    await client.open(1, { streamtype: 'stdin' });
    expect(await client.frame((frame) => frame.type === 'rst_stream' && frame.streamId === 1)).toMatchObject({ status: 5 });
    await client.open(3, { streamtype: 'error' });
    await client.open(5, { streamtype: 'stdout' });
    await client.frame((frame) => frame.type === 'data' && frame.streamId === 3 && frame.fin);
    expect(JSON.parse(client.received(3).toString())).toEqual({ metadata: {}, status: 'Success' });
    expect(client.received(5).toString()).toBe('tester\n');
    await client.closed;
  });
});
