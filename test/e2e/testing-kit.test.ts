import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClusterProxy } from 'kube-cluster-proxy';
import { serve, startFakeCluster, testClient, TestClientError, type FakeCluster, type TestServer } from 'kube-cluster-proxy/testing';

const TOKEN = 'alice-token';
let fake: FakeCluster;

beforeAll(async () => {
  fake = await startFakeCluster({ name: 'kit', tokens: { [TOKEN]: 'alice', 'svc-token': 'dashboard' } });
});
afterAll(() => fake.close());

/** The README's host app: Express with the proxy mounted, served by the kit. */
async function host(): Promise<TestServer> {
  const proxy = createClusterProxy({ clusters: [fake.clusterConfig('user'), fake.clusterConfig('own', { token: 'svc-token' })] });
  const app = express();
  app.use(proxy.mountPath, proxy);
  return serve(app, { proxy });
}

describe('testClient through the proxy', () => {
  let app: TestServer;
  beforeAll(async () => (app = await host()));
  afterAll(() => app.close());

  it('gets, execs, watches and follows logs with a user token', async () => {
    const client = testClient(`${app.url}/clusters/user`, { token: TOKEN });
    const pods = await client.get<{ items: unknown[] }>('/api/v1/namespaces/default/pods');
    expect(pods.status).toBe(200);
    expect(pods.body.items).toHaveLength(3);
    expect(fake.requests.at(-1)?.headers.authorization).toBe(`Bearer ${TOKEN}`);

    expect(await client.exec('default', 'web-kit-1', ['whoami'])).toMatchObject({ stdout: 'alice\n', exitCode: 0, protocol: 'v5.channel.k8s.io' });

    const events = await client.watch('/api/v1/namespaces/default/pods');
    fake.addPod({ name: 'through-proxy' });
    try {
      for await (const event of events) if (event.object.metadata?.name === 'through-proxy') break;
    } finally {
      fake.deletePod('default', 'through-proxy');
    }

    const log = await client.logs('default', 'web-kit-2', { follow: true });
    fake.appendLog('default', 'web-kit-2', 'fresh line');
    let text = '';
    for await (const chunk of log) if ((text += chunk).includes('fresh line')) break;
    expect(text).toBe('[kit] web-kit-2 starting\nlistening on :8080\nGET /healthz 200\nfresh line\n');
    await expect.poll(() => fake.activeStreams(), { timeout: 5_000 }).toBe(0);
  });

  it('execs as a browser does: the token in the subprotocol, reaching the cluster as a header', async () => {
    const browser = testClient(`${app.url}/clusters/user`, { token: TOKEN, tokenIn: 'subprotocol' });
    const result = await browser.exec('default', 'web-kit-1', ['cat'], { stdin: 'typed\n', tty: true });
    expect(result.stdout).toBe('typed\n');
    const seen = fake.requests.at(-1);
    expect(seen?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(seen?.headers['sec-websocket-protocol']).toBe('v5.channel.k8s.io, v4.channel.k8s.io');
  });

  it('uses the cluster credentials of a cluster that has them', async () => {
    expect((await testClient(`${app.url}/clusters/own`).exec('default', 'web-kit-1', ['whoami'])).stdout).toBe('dashboard\n');
  });

  it('throws TestClientErrors carrying the Status of the proxy and of the cluster', async () => {
    const unknown = testClient(`${app.url}/clusters/nope`, { token: TOKEN }).exec('default', 'web-kit-1', ['true']);
    await expect(unknown).rejects.toBeInstanceOf(TestClientError);
    await expect(unknown).rejects.toMatchObject({ code: 404, reason: 'NotFound', message: expect.stringContaining('"nope"') });

    const anonymous = testClient(`${app.url}/clusters/user`);
    await expect(anonymous.exec('default', 'web-kit-1', ['true'])).rejects.toMatchObject({ code: 401, reason: 'Unauthorized' });
    await expect(anonymous.watch('/api/v1/pods')).rejects.toMatchObject({ code: 401 });
    await expect(anonymous.logs('default', 'web-kit-1')).rejects.toMatchObject({ code: 401 });
  });
});

describe('closing a served host app', () => {
  it('ends open watches, follows and exec sessions at once, on the client and on the cluster', async () => {
    const app = await host();
    const client = testClient(`${app.url}/clusters/user`, { token: TOKEN });
    const events = await client.watch('/api/v1/pods');
    const log = await client.logs('default', 'web-kit-1', { follow: true });
    const exec = client.exec('default', 'web-kit-1', ['sleep', '600']);
    await expect.poll(() => fake.activeStreams(), { timeout: 5_000 }).toBe(3);

    // The expectation is attached before the close, which ends the exec: its rejection is handled.
    const execEnded = expect(exec).rejects.toThrow("before the command's exit status arrived");
    await app.close();
    await execEnded;
    const types: string[] = [];
    for await (const event of events) types.push(event.type);
    expect(types).toEqual(['ADDED', 'ADDED', 'ADDED']);
    let text = '';
    for await (const chunk of log) text += chunk;
    expect(text).toBe('[kit] web-kit-1 starting\nlistening on :8080\nGET /healthz 200\n');
    await expect.poll(() => fake.activeStreams(), { timeout: 5_000 }).toBe(0);
  });
});
