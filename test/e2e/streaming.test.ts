import { request } from 'node:http';
import { Log, KubeConfig, Watch, CoreV1Api } from '@kubernetes/client-node';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { startProxyHost, type ProxyHost } from '../helpers/servers.ts';

let fake: FakeCluster;
let proxy: ProxyHost;

beforeAll(async () => {
  fake = await startFakeCluster({ name: 'stream', tokens: { 'svc-token': 'dashboard' } });
  proxy = await startProxyHost({
    clusters: [{ name: 'c', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } }],
    // Short: proves that open streams are not cut by the response timeout.
    upstreamTimeout: 500,
  });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});

/** Opens a streaming GET through the proxy and hands over each chunk as it arrives. */
function openStream(path: string, onChunk: (text: string) => void): { abort(): void; status: Promise<number> } {
  let req: ReturnType<typeof request>;
  const status = new Promise<number>((resolve, reject) => {
    req = request(`${proxy.url}${path}`, { agent: false }, (res) => {
      resolve(res.statusCode ?? 0);
      res.on('data', (chunk: Buffer) => onChunk(chunk.toString()));
      res.on('error', () => {});
    });
    req.on('error', (error) => {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
    });
    req.end();
  });
  return { abort: () => req.destroy(), status };
}

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'proxy', server: `${proxy.url}/clusters/c`, skipTLSVerify: true }],
    users: [{ name: 'none' }],
    contexts: [{ name: 'ctx', cluster: 'proxy', user: 'none' }],
    currentContext: 'ctx',
  });
  return kc;
}

describe('watch through the proxy', () => {
  it('answers a watch with nothing to report yet at once, not with its first event', async () => {
    const stream = openStream(`/clusters/c/api/v1/namespaces/default/pods?watch=1&resourceVersion=${fake.resourceVersion()}`, () => {});
    const silent = new Promise<string>((resolve) => setTimeout(() => resolve('no response headers within 5 s'), 5000).unref());
    expect(await Promise.race([stream.status, silent])).toBe(200);
    stream.abort();
    await expect.poll(() => fake.activeStreams('watch')).toBe(0);
  });

  it('delivers each event while the stream stays open, and a client abort cancels the upstream watch', async () => {
    let received = '';
    const stream = openStream('/clusters/c/api/v1/namespaces/default/pods?watch=1', (text) => (received += text));
    expect(await stream.status).toBe(200);
    await expect.poll(() => received).toContain('"ADDED"');
    await expect.poll(() => fake.activeStreams('watch')).toBe(1);
    // Longer than upstreamTimeout: the open watch is not cut.
    await new Promise((resolve) => setTimeout(resolve, 700));
    fake.addPod({ name: 'late-pod', namespace: 'default' });
    await expect.poll(() => received).toContain('late-pod');
    stream.abort();
    await expect.poll(() => fake.activeStreams('watch')).toBe(0);
  });

  it('works with @kubernetes/client-node Watch and list', async () => {
    const kc = kubeConfig();
    const list = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'default' });
    expect(list.items.map((p) => p.metadata?.name)).toContain('web-stream-1');
    const seen: string[] = [];
    const controller = await new Watch(kc).watch(
      '/api/v1/namespaces/default/pods',
      {},
      (type, pod: { metadata: { name: string } }) => seen.push(`${type} ${pod.metadata.name}`),
      () => {},
    );
    await expect.poll(() => seen).toContain('ADDED web-stream-1');
    fake.updatePod('default', 'web-stream-2', { phase: 'Failed' });
    await expect.poll(() => seen).toContain('MODIFIED web-stream-2');
    controller.abort();
    await expect.poll(() => fake.activeStreams('watch')).toBe(0);
  });
});

describe('followed logs through the proxy', () => {
  it('streams a line appended after the stream opened, and an abort closes the upstream', async () => {
    let received = '';
    const stream = openStream('/clusters/c/api/v1/namespaces/default/pods/web-stream-1/log?follow=true', (t) => (received += t));
    expect(await stream.status).toBe(200);
    await expect.poll(() => received).toContain('starting');
    await expect.poll(() => fake.activeStreams('log')).toBe(1);
    fake.appendLog('default', 'web-stream-1', 'a line written later');
    await expect.poll(() => received).toContain('a line written later');
    stream.abort();
    await expect.poll(() => fake.activeStreams('log')).toBe(0);
  });

  it('works with @kubernetes/client-node Log', async () => {
    // Without follow: aborting a followed log makes client-node emit an unhandled AbortError of
    // its own; the follow path is covered above with a plain client.
    fake.appendLog('default', 'web-stream-2', 'client-node sees this');
    let text = '';
    const sink = new PassThrough();
    sink.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const ended = new Promise((resolve) => sink.on('end', resolve));
    await new Log(kubeConfig()).log('default', 'web-stream-2', 'app', sink, { tailLines: 2 });
    await ended;
    expect(text).toContain('client-node sees this');
    expect(text.trim().split('\n')).toHaveLength(2);
  });
});
