import { PortForward } from '@kubernetes/client-node';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startKubectlWorld, type KubectlWorld } from '../helpers/kubectl.ts';
import { channelText, Collector, framesUntilClose, openWebSocket, type WebSocketAttempt } from './kit-helpers.ts';

let world: KubectlWorld;

beforeAll(async () => {
  world = await startKubectlWorld({
    name: 'wspf',
    pods: [{ name: 'web', ports: { 8080: (req, res) => res.end(`hello ${req.url}`), 7000: 'echo' } }],
  });
});
afterAll(() => world?.close());

const auth = { Authorization: 'Bearer admin-token' };
const path = (query: string) => `/api/v1/namespaces/default/pods/web/portforward?${query}`;

function opened(attempt: WebSocketAttempt) {
  if (!('ws' in attempt)) throw new Error(`refused: ${attempt.status} ${attempt.body}`);
  return attempt;
}

describe('port-forward over the channel protocol (v4.channel.k8s.io, ?ports=)', () => {
  it("@kubernetes/client-node's PortForward reaches the pod's HTTP handler through the proxy", async () => {
    world.fake.clearRequests();
    const output = new Collector();
    const errors = new Collector();
    const input = new PassThrough();
    const ws = await new PortForward(world.kubeConfig('user')).portForward('default', 'web', [8080], output, errors, input);
    try {
      input.write('GET /via-client-node HTTP/1.1\r\nHost: pod\r\nConnection: close\r\n\r\n');
      await vi.waitFor(() => expect(output.text).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhello \/via-client-node$/));
      expect(errors.text).toBe('');
    } finally {
      (ws as { close(): void }).close();
    }
    const upgrade = world.fake.requests.find((request) => request.upgrade);
    expect(upgrade).toMatchObject({ user: 'alice', path: path('ports=8080') });
  });

  it('sends the port first on each channel, then echoes, on several ports at once', async () => {
    const { ws, protocol } = opened(await openWebSocket(world.fake, path('ports=7000,7000'), ['v5.channel.k8s.io', 'v4.channel.k8s.io'], auth));
    expect(protocol).toBe('v4.channel.k8s.io');
    const result = framesUntilClose(ws);
    let received = '';
    ws.on('message', (data: Buffer) => (received += data.subarray(1).toString('latin1')));
    ws.send(Buffer.concat([Buffer.of(0), Buffer.from('to the first')]));
    ws.send(Buffer.concat([Buffer.of(2), Buffer.from('to the second')]));
    expect(world.fake.activeStreams('portforward')).toBe(1);
    await vi.waitFor(() => expect(received).toMatch(/to the first[\s\S]*to the second|to the second[\s\S]*to the first/));
    ws.close();
    const { frames } = await result;
    for (const channel of [0, 1, 2, 3]) expect(frames.find((frame) => frame.channel === channel)?.data).toEqual(Buffer.from([7000 & 0xff, 7000 >> 8]));
    expect(channelText(frames, 0).slice(2)).toBe('to the first');
    expect(channelText(frames, 2).slice(2)).toBe('to the second');
    await vi.waitFor(() => expect(world.fake.activeStreams('portforward')).toBe(0));
  });

  it('reports a closed port on the error channel and closes', async () => {
    world.fake.updatePod('default', 'web', { ports: { 8080: 'echo' } });
    try {
      const { ws } = opened(await openWebSocket(world.fake, path('ports=9999'), ['v4.channel.k8s.io'], auth));
      const { frames, code } = await framesUntilClose(ws);
      expect(code).toBe(1000);
      expect(channelText(frames, 1).slice(2)).toMatch(/^error forwarding port 9999 to pod web, uid [0-9a-f-]+: dial tcp4 127\.0\.0\.1:9999: connect: connection refused$/);
    } finally {
      world.fake.updatePod('default', 'web', { ports: { 8080: (req, res) => res.end(`hello ${req.url}`), 7000: 'echo' } });
    }
  });

  it('refuses bad port numbers and missing ports with a 400 Status before upgrading', async () => {
    for (const [query, message] of [
      ['', 'query parameter "ports" is required'],
      ['ports=', 'query parameter "ports" cannot be empty'],
      ['ports=0', 'port "0" must be > 0'],
      ['ports=70000', 'unable to parse "70000" as a port'],
      ['ports=80,abc', 'unable to parse "abc" as a port'],
      ['ports=-1', 'unable to parse "-1" as a port'],
    ] as const) {
      const attempt = await openWebSocket(world.fake, path(query), ['v4.channel.k8s.io'], auth);
      expect(attempt).toMatchObject({ status: 400 });
      expect(JSON.parse((attempt as { body: string }).body)).toMatchObject({ kind: 'Status', code: 400, message });
    }
  });

  it('refuses protocols it does not speak, a missing pod and a pod that is not running', async () => {
    const refused = await openWebSocket(world.fake, path('ports=8080'), ['v5.channel.k8s.io'], auth);
    expect(refused).toMatchObject({ status: 400 });
    expect((refused as { body: string }).body).toContain('SPDY/3.1+portforward.k8s.io');
    const missing = await openWebSocket(world.fake, '/api/v1/namespaces/default/pods/nope/portforward?ports=80', ['v4.channel.k8s.io'], auth);
    expect(missing).toMatchObject({ status: 404 });
    world.fake.addPod({ name: 'pending', phase: 'Pending' });
    const pending = await openWebSocket(world.fake, '/api/v1/namespaces/default/pods/pending/portforward?ports=80', ['v4.channel.k8s.io'], auth);
    expect(JSON.parse((pending as { body: string }).body)).toMatchObject({ code: 400, message: 'unable to forward port because pod is not running. Current status=Pending' });
  });
});
