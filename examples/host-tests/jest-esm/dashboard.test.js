import { expect, test } from '@jest/globals';
import { serve, startFakeCluster, testClient } from 'kube-cluster-proxy/testing';
import { createApp } from '../app.js';

test('the pods list shows the cluster\'s pods', async () => {
  await using fake = await startFakeCluster({ tokens: { 'alice-token': 'alice' } });
  const { app, proxy } = createApp({ clusters: [fake.clusterConfig('dev')] });
  await using server = await serve(app, { proxy });
  const { status, body } = await testClient(server.url, { token: 'alice-token' }).get('/api/dev/pods');
  expect(status).toBe(200);
  expect(body.map((pod) => pod.name)).toEqual(['web-fake-1', 'web-fake-2', 'worker-fake-1']);
});

test('the exec terminal runs a command in a pod', async () => {
  await using fake = await startFakeCluster({ tokens: { 'alice-token': 'alice' } });
  const { app, proxy } = createApp({ clusters: [fake.clusterConfig('dev')] });
  await using server = await serve(app, { proxy });
  const browser = testClient(`${server.url}/clusters/dev`, { token: 'alice-token', tokenIn: 'subprotocol' });
  const { stdout, exitCode } = await browser.exec('default', 'web-fake-1', ['whoami'], { tty: true });
  expect(stdout).toBe('alice\n');
  expect(exitCode).toBe(0);
});

test('the watch list sees a new pod', async () => {
  await using fake = await startFakeCluster({ tokens: { 'alice-token': 'alice' } });
  const { app, proxy } = createApp({ clusters: [fake.clusterConfig('dev')] });
  await using server = await serve(app, { proxy });
  const client = testClient(`${server.url}/clusters/dev`, { token: 'alice-token' });
  await using events = await client.watch('/api/v1/namespaces/default/pods');
  fake.addPod({ name: 'api-1' });
  const seen = [];
  for await (const { type, object } of events) if (seen.push(`${type} ${object.metadata.name}`) === 4) break;
  expect(seen).toEqual(['ADDED web-fake-1', 'ADDED web-fake-2', 'ADDED worker-fake-1', 'ADDED api-1']);
});
