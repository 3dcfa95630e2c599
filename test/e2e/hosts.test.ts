import { createServer } from 'node:http';
import express from 'express';
import express4 from 'express4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { bearerSubprotocol, createClusterProxy } from 'kube-cluster-proxy';
import { closeServer, listen, send, startProxyHost, testEngine, type HostKind } from '../helpers/servers.ts';
import { execQuery, runChannelSession } from '../helpers/websocket.ts';

let fake: FakeCluster;
beforeAll(async () => {
  fake = await startFakeCluster({ name: 'host', tokens: { 'alice-token': 'alice', 'svc-token': 'svc' } });
});
afterAll(() => fake.close());

describe.each<HostKind>(['express5', 'express4', 'node-http'])('mounted in %s', (kind) => {
  it('proxies HTTP and upgrades, and leaves other routes alone', async () => {
    const host = await startProxyHost(
      {
        clusters: [
          { name: 'user', server: fake.url, ca: fake.ca },
          { name: 'own', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } },
        ],
      },
      kind,
    );
    try {
      const exec = await runChannelSession(
        `${host.url.replace('http', 'ws')}/clusters/user/api/v1/namespaces/default/pods/web-host-1/exec?${execQuery(['whoami'])}`,
        [bearerSubprotocol('alice-token'), 'v4.channel.k8s.io'],
      );
      expect(exec.ok && exec.session.output.get(1)).toBe('alice\n');
      const pods = await send(`${host.url}/clusters/own/api/v1/namespaces/default/pods/web-host-2`);
      expect(pods.status).toBe(200);
      expect(pods.json()).toMatchObject({ kind: 'Pod', metadata: { name: 'web-host-2' } });
      expect((await send(`${host.url}/clusters/nope/api`)).status).toBe(404);
      if (kind === 'node-http') {
        const outside = await send(`${host.url}/healthz`);
        expect(outside.status).toBe(404);
        expect(outside.json()).toMatchObject({ kind: 'Status', code: 404 });
      } else {
        expect((await send(`${host.url}/healthz`)).body).toBe('ok');
      }
    } finally {
      await host.close();
    }
  });
});

describe('mounting mistakes', () => {
  it.each([
    ['express 5', express],
    ['express 4', express4],
  ])('%s: a mount path that differs from the mountPath option answers a clear 500', async (_name, make) => {
    const proxy = createClusterProxy({ engine: testEngine(), clusters: [{ name: 'own', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } }], logger: { warn() {}, error() {} } });
    const app = make();
    app.use('/k8s', proxy);
    const server = createServer(app);
    const url = await listen(server);
    try {
      const res = await send(`${url}/k8s/own/version`);
      expect(res.status).toBe(500);
      expect((res.json() as { message: string }).message).toMatch(/mounted at "\/k8s" but its mountPath option is "\/clusters"/);
    } finally {
      await proxy.close();
      await closeServer(server);
    }
  });

  it('a proxy mounted at the root with app.use(proxy) still routes by mountPath', async () => {
    const proxy = createClusterProxy({ engine: testEngine(), clusters: [{ name: 'own', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } }] });
    const app = express();
    app.use(proxy);
    app.get('/other', (_req, res) => {
      res.send('other');
    });
    const server = createServer(app);
    const url = await listen(server);
    try {
      expect((await send(`${url}/clusters/own/version`)).status).toBe(200);
      expect((await send(`${url}/other`)).body).toBe('other');
    } finally {
      await proxy.close();
      await closeServer(server);
    }
  });
});

describe('a host that forgot attach()', () => {
  it('answers a WebSocket upgrade that reached the HTTP handler with a Status saying to call attach()', async () => {
    const errors: unknown[] = [];
    const proxy = createClusterProxy({ engine: testEngine(), clusters: [{ name: 'own', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } }], logger: { warn() {}, error: (...a: unknown[]) => errors.push(a) } });
    const app = express();
    app.use('/clusters', proxy);
    const server = createServer(app); // no proxy.attach(server)
    const url = await listen(server);
    try {
      const result = await runChannelSession(`${url.replace('http', 'ws')}/clusters/own/api/v1/namespaces/default/pods/web-host-1/exec?${execQuery(['ls'])}`, ['v4.channel.k8s.io']);
      expect(result).toMatchObject({ ok: false, status: 500 });
      if (!result.ok) expect((JSON.parse(result.body) as { message: string }).message).toMatch(/upgrade reached the proxy's HTTP handler: call proxy\.attach\(server\)/);
      expect(errors).toHaveLength(1);
    } finally {
      await proxy.close();
      await closeServer(server);
    }
  });
});
