import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { createClusterProxy } from 'kube-cluster-proxy';
import { closeServer, listen, send, startProxyHost, testEngine } from '../helpers/servers.ts';
import { execQuery, runChannelSession } from '../helpers/websocket.ts';

let fake: FakeCluster;
beforeAll(async () => {
  fake = await startFakeCluster({ name: 'opt', tokens: { 'svc-token': 'svc' } });
});
afterAll(() => fake.close());

describe('cluster server options', () => {
  it('prefixes every upstream path with the server path (Rancher), for HTTP and upgrades', async () => {
    const seen: string[] = [];
    const rancher = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.end('{}');
    });
    rancher.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      seen.push(req.url ?? '');
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
    });
    const url = await listen(rancher);
    const host = await startProxyHost({
      clusters: [{ name: 'r', server: `${url}/k8s/clusters/c-abc`, credentials: { token: 't' } }],
    });
    try {
      await send(`${host.url}/clusters/r/api/v1/pods?limit=1`);
      await send(`${host.url}/clusters/r`);
      const ws = await runChannelSession(`${host.url.replace('http', 'ws')}/clusters/r/api/v1/namespaces/a/pods/b/exec?${execQuery(['ls'])}`, ['v4.channel.k8s.io']);
      expect(ws).toMatchObject({ ok: false, status: 403 });
      expect(seen).toEqual([
        '/k8s/clusters/c-abc/api/v1/pods?limit=1',
        '/k8s/clusters/c-abc', // the server URL itself
        `/k8s/clusters/c-abc/api/v1/namespaces/a/pods/b/exec?${execQuery(['ls'])}`,
      ]);
    } finally {
      await host.close();
      await closeServer(rancher);
    }
  });

  it('verifies the certificate against tlsServerName when given', async () => {
    const byName = fake.url.replace('127.0.0.1', 'localhost');
    const good = await startProxyHost({
      clusters: [
        { name: 'sni', server: fake.url, ca: fake.ca, tlsServerName: 'localhost', credentials: { token: 'svc-token' } },
        { name: 'wrong', server: byName, ca: fake.ca, tlsServerName: 'api.other.example', credentials: { token: 'svc-token' } },
      ],
    });
    try {
      expect((await send(`${good.url}/clusters/sni/version`)).status).toBe(200);
      const wrong = await send(`${good.url}/clusters/wrong/version`);
      expect(wrong.status).toBe(502);
      expect((wrong.json() as { message: string }).message).toMatch(/TLS verification failed/);
    } finally {
      await good.close();
    }
  });

  it('skips verification with insecureSkipTLSVerify, warning once', async () => {
    const warnings: unknown[] = [];
    const host = await startProxyHost({
      clusters: [{ name: 'i', server: fake.url, insecureSkipTLSVerify: true, credentials: { token: 'svc-token' } }],
      logger: { warn: (m: unknown) => warnings.push(m), error: () => {} },
    });
    try {
      expect((await send(`${host.url}/clusters/i/version`)).status).toBe(200);
      expect((await send(`${host.url}/clusters/i/version`)).status).toBe(200);
      expect(warnings).toHaveLength(1);
    } finally {
      await host.close();
    }
  });
});

describe('proxy.upgrade() for hosts that route upgrades themselves', () => {
  it('serves upgrades handed over by the host, and answers 404 for paths outside the mount', async () => {
    const proxy = createClusterProxy({ engine: testEngine(), clusters: [{ name: 'own', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } }] });
    const server: Server = createServer((req, res) => proxy(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => proxy.upgrade(req, socket, head));
    const base = (await listen(server)).replace('http', 'ws');
    try {
      const ok = await runChannelSession(`${base}/clusters/own/api/v1/namespaces/default/pods/web-opt-1/exec?${execQuery(['whoami'])}`, ['v4.channel.k8s.io']);
      expect(ok.ok && ok.session.output.get(1)).toBe('svc\n');
      const outside = await runChannelSession(`${base}/elsewhere`, ['v4.channel.k8s.io']);
      expect(outside).toMatchObject({ ok: false, status: 404 });
    } finally {
      await proxy.close();
      await closeServer(server);
    }
  });
});

describe('hooks', () => {
  it('a hook that throws is logged and the request still succeeds', async () => {
    const logged: unknown[] = [];
    const host = await startProxyHost({
      clusters: [{ name: 'own', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } }],
      on: {
        proxyReq: () => {
          throw new Error('hook bug');
        },
      },
      logger: { warn: () => {}, error: (...args: unknown[]) => logged.push(args) },
    });
    try {
      expect((await send(`${host.url}/clusters/own/version`)).status).toBe(200);
      expect(JSON.stringify(logged)).toContain('proxyReq hook threw');
    } finally {
      await host.close();
    }
  });
});

describe('no leaks', () => {
  it('closes both sides of every upgraded connection, whichever side ends it', async () => {
    const host = await startProxyHost({
      clusters: [{ name: 'own', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } }],
    });
    try {
      const base = host.url.replace('http', 'ws');
      // The server side ends: 20 commands run to completion.
      const sessions = await Promise.all(
        Array.from({ length: 20 }, () =>
          runChannelSession(`${base}/clusters/own/api/v1/namespaces/default/pods/web-opt-1/exec?${execQuery(['echo', 'x'])}`, ['v4.channel.k8s.io']),
        ),
      );
      expect(sessions.every((s) => s.ok && s.session.output.get(1) === 'x\n')).toBe(true);
      // The client side ends: it drops long-running sessions.
      const { default: WebSocket } = await import('ws');
      const open = await Promise.all(
        Array.from({ length: 5 }, async () => {
          const ws = new WebSocket(`${base}/clusters/own/api/v1/namespaces/default/pods/web-opt-1/exec?${execQuery(['cat'], true)}`, ['v4.channel.k8s.io']);
          await new Promise((resolve, reject) => {
            ws.once('open', resolve);
            ws.once('error', reject);
          });
          return ws;
        }),
      );
      await expect.poll(() => fake.activeStreams('exec')).toBe(5);
      for (const ws of open) ws.terminate();
      await expect.poll(() => fake.activeStreams('exec')).toBe(0);
      await expect
        .poll(() => new Promise<number>((resolve) => host.server.getConnections((_e, count) => resolve(count))))
        .toBe(0);
    } finally {
      await host.close();
    }
  });
});
