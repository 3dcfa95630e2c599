import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { validateClusterConfig } from '../../src/clusters/cluster-config.ts';
import { createClusterAgent } from '../../src/forward/agents.ts';
import { createDeadlines } from '../../src/forward/deadlines.ts';
import { createRouteTls } from '../../src/forward/route-tls.ts';
import { createUpstreamRequester } from '../../src/forward/upstream-request.ts';
import { closeServer, listen } from '../helpers/servers.ts';

const fakes: FakeCluster[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
  await Promise.all(servers.splice(0).map((s) => closeServer(s)));
});

async function read(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

describe('requests of the proxy’s own', () => {
  it('reaches the cluster over TLS with the headers given, and sends a body', async () => {
    const fake = await startFakeCluster({ tokens: { 'secret-token': { user: 'alice' } } });
    fakes.push(fake);
    const cluster = validateClusterConfig({ name: 'fake', server: fake.url, ca: fake.ca }, 'clusters[0]');
    const deadlines = createDeadlines();
    const request = createUpstreamRequester(cluster, createClusterAgent(createRouteTls(cluster, undefined)), deadlines);
    const response = await request({
      method: 'POST',
      path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      headers: { authorization: 'Bearer secret-token', 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }),
      timeoutMs: 5_000,
    });
    expect(response.statusCode).toBe(201);
    expect(JSON.parse(await read(response))).toMatchObject({ status: { userInfo: { username: 'alice' } } });
    deadlines.close();
  });

  it('rejects with a 502 naming the cluster when the server is unreachable', async () => {
    const server = createServer();
    const url = await listen(server);
    await closeServer(server);
    const cluster = validateClusterConfig({ name: 'gone', server: url }, 'clusters[0]');
    const deadlines = createDeadlines();
    const request = createUpstreamRequester(cluster, createClusterAgent(createRouteTls(cluster, undefined)), deadlines);
    await expect(request({ method: 'GET', path: '/api', headers: {}, timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'ERR_UPSTREAM_UNREACHABLE', message: expect.stringContaining('cluster "gone"') });
    deadlines.close();
  });

  it('rejects with a 504 when the headers do not come within the deadline, and the signal aborts', async () => {
    const server = createServer(() => {});
    servers.push(server);
    const url = await listen(server);
    const cluster = validateClusterConfig({ name: 'slow', server: url }, 'clusters[0]');
    const deadlines = createDeadlines();
    const request = createUpstreamRequester(cluster, createClusterAgent(createRouteTls(cluster, undefined)), deadlines);
    await expect(request({ method: 'GET', path: '/api', headers: {}, timeoutMs: 100 })).rejects.toMatchObject({ code: 'ERR_UPSTREAM_TIMEOUT' });
    const controller = new AbortController();
    const aborted = request({ method: 'GET', path: '/api', headers: {}, timeoutMs: 5_000, signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(Error);
    deadlines.close();
  });
});
