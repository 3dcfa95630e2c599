import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, get } from 'node:http';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import WebSocket, { WebSocketServer } from 'ws';
import { describe, expect, it } from 'vitest';
import { createCertificateAuthority, serve, testClient, type ServedProxy } from 'kube-cluster-proxy/testing';

const FIXTURE = fileURLToPath(new URL('../fixtures/dispose/assertion-throws.ts', import.meta.url));

/** A stand-in for a proxy: takes every upgrade as a WebSocket and counts its closes. */
function webSocketProxy(): ServedProxy & { closes: number; sockets: WebSocket[] } {
  const wss = new WebSocketServer({ noServer: true });
  const proxy = {
    closes: 0,
    sockets: [] as WebSocket[],
    attach(server: Parameters<ServedProxy['attach']>[0]) {
      server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => proxy.sockets.push(ws)));
    },
    close() {
      proxy.closes++;
      return Promise.resolve();
    },
  };
  return proxy;
}

describe('serve', () => {
  it('serves a listener on loopback and closes an idle keep-alive connection and an upgraded one at once', async () => {
    const proxy = webSocketProxy();
    const app = await serve((_req, res) => res.end('hello'), { proxy });
    expect(app.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await testClient(app.url).get<string>('/')).body).toBe('hello');

    const idleSocket = await new Promise<Socket>((resolve) => {
      get(app.url, { agent: new Agent({ keepAlive: true }) }, (res) => {
        const socket = res.socket;
        res.resume();
        res.on('end', () => resolve(socket));
      });
    });
    const ws = new WebSocket(app.url.replace('http', 'ws'));
    await once(ws, 'open');
    const wsClosed = once(ws, 'close');
    const idleClosed = once(idleSocket, 'close');

    await app[Symbol.asyncDispose]();
    await Promise.all([wsClosed, idleClosed]);
    await app.close();
    expect(proxy.closes).toBe(1);
    await expect(testClient(app.url).get('/')).rejects.toThrow('ECONNREFUSED');
  });

  it('still closes the server when the proxy fails to close, and reports that failure', async () => {
    const app = await serve((_req, res) => res.end(), { proxy: { attach: () => undefined, close: () => Promise.reject(new Error('agents stuck')) } });
    await expect(app.close()).rejects.toThrow('agents stuck');
    await expect(testClient(app.url).get('/')).rejects.toThrow('ECONNREFUSED');
  });

  it('serves HTTPS with a certificate', async () => {
    const authority = createCertificateAuthority({ commonName: 'test-ca' });
    const tls = authority.issue({ commonName: 'localhost', ipAddresses: ['127.0.0.1'], usage: 'server' });
    const app = await serve((_req, res) => res.end('secure'), { tls });
    try {
      expect(app.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect((await testClient(app.url, { ca: authority.cert }).get<string>('/')).body).toBe('secure');
    } finally {
      await app.close();
    }
  });

  it('refuses what is not a listener or a proxy', async () => {
    await expect(serve('app' as never)).rejects.toThrow('serve(): the handler must be an Express app or a (req, res) listener');
    await expect(serve(() => undefined, { proxy: {} as ServedProxy })).rejects.toThrow('serve(): proxy must be a ClusterProxy');
  });
});

describe('disposal when a test throws', () => {
  it.each(['server-first', 'fake-first'])('leaves no handle that keeps the process alive (%s)', async (order) => {
    const child = spawn(process.execPath, ['--conditions=kcp-source', FIXTURE, order], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    expect(signal, `still running after dispose, killed:\n${output}`).toBeNull();
    expect(output).toContain('open streams: 4');
    expect(output).toContain('disposed');
    expect(output).toContain('Error: the assertion failed');
    expect(code).toBe(1);
  });
});
