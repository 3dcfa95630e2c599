import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { validateClusterConfig } from '../../src/clusters/cluster-config.ts';
import { createClusterAgent } from '../../src/forward/agents.ts';
import { createRouteTls } from '../../src/forward/route-tls.ts';

let fake: FakeCluster;
beforeAll(async () => {
  fake = await startFakeCluster({ tokens: { t: { user: 'alice' } } });
});
afterAll(() => fake.close());

/** One request on a connection of its own (`Connection: close`); resolves with whether it resumed a TLS session. */
function resumed(agent: ReturnType<typeof createClusterAgent>): Promise<boolean> {
  const url = new URL(fake.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: '/version', agent, headers: { authorization: 'Bearer t', connection: 'close' } }, (res) => {
      const reused = (res.socket as TLSSocket).isSessionReused();
      res.resume();
      res.on('end', () => resolve(reused));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the route agent', () => {
  it('resumes the TLS session of an earlier connection', async () => {
    const cluster = validateClusterConfig({ name: 'fake', server: fake.url, ca: fake.ca }, 'clusters[0]');
    const agent = createClusterAgent(createRouteTls(cluster, undefined));
    expect(await resumed(agent)).toBe(false);
    expect(await resumed(agent)).toBe(true);
    agent.destroy();
  });

  it('refuses a server its CA did not sign', async () => {
    const other = await startFakeCluster({});
    try {
      const cluster = validateClusterConfig({ name: 'fake', server: fake.url, ca: other.ca }, 'clusters[0]');
      const agent = createClusterAgent(createRouteTls(cluster, undefined));
      await expect(resumed(agent)).rejects.toThrow(/certificate/);
      agent.destroy();
    } finally {
      await other.close();
    }
  });
});
