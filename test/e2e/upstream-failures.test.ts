import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createCertificateAuthority } from 'kube-cluster-proxy/testing';
import type { ProxyErrorEvent } from 'kube-cluster-proxy';
import { closeServer, listen, parseRaw, send, sendRaw, startProxyHost, type ProxyHost } from '../helpers/servers.ts';

const hosts: ProxyHost[] = [];
const upstreams: Server[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close()));
  await Promise.all(upstreams.splice(0).map((s) => closeServer(s)));
});

async function host(...args: Parameters<typeof startProxyHost>): Promise<ProxyHost> {
  const started = await startProxyHost(...args);
  hosts.push(started);
  return started;
}

async function upstream(server: Server): Promise<string> {
  upstreams.push(server);
  return listen(server);
}

function message(res: { json(): unknown }): string {
  return (res.json() as { message: string }).message;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await listen(server);
  const { port } = server.address() as AddressInfo;
  await closeServer(server);
  return port;
}

describe('upstream failures', () => {
  it('answers 502 naming the cluster when the server refuses connections, over HTTP and upgrades', async () => {
    const errors: ProxyErrorEvent[] = [];
    const port = await closedPort();
    const proxy = await host({
      clusters: [{ name: 'gone', server: `http://127.0.0.1:${port}`, credentials: { token: 'secret-token' } }],
      on: { error: (e) => errors.push(e) },
    });
    const res = await send(`${proxy.url}/clusters/gone/api`);
    expect(res.status).toBe(502);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 502 });
    expect(message(res)).toContain('cluster "gone"');
    expect(message(res)).toContain('ECONNREFUSED');
    expect(res.body).not.toContain('secret-token');

    const raw = await sendRaw(
      proxy.url,
      'GET /clusters/gone/api/v1/namespaces/default/pods/p/exec?command=ls HTTP/1.1\r\nHost: x\r\n' +
        'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
        'Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n',
    );
    expect(parseRaw(raw)).toMatchObject({ status: 502, body: { code: 502, reason: 'InternalError' } });
    expect(errors.map((e) => [e.error.code, e.cluster, e.upgrade])).toEqual([
      ['ERR_UPSTREAM_UNREACHABLE', 'gone', false],
      ['ERR_UPSTREAM_UNREACHABLE', 'gone', true],
    ]);
    expect(JSON.stringify(errors.map((e) => ({ ...e, error: e.error.message })))).not.toContain('secret-token');
  });

  it('answers 502 with the TLS cause when the server certificate does not verify', async () => {
    const serverCa = createCertificateAuthority({ commonName: 'real CA' });
    const otherCa = createCertificateAuthority({ commonName: 'other CA' });
    const tls = createHttpsServer(
      serverCa.issue({ commonName: 'api', ipAddresses: ['127.0.0.1'], usage: 'server' }),
      (_req, res) => res.end('{}'),
    );
    const url = (await upstream(tls)).replace('http:', 'https:');
    const proxy = await host({ clusters: [{ name: 'tls', server: url, ca: otherCa.cert, credentials: { token: 't' } }] });
    const res = await send(`${proxy.url}/clusters/tls/version`);
    expect(res.status).toBe(502);
    expect(res.body).toMatch(/TLS verification failed/);
    // With the right CA the same server answers.
    const good = await host({ clusters: [{ name: 'tls', server: url, ca: serverCa.cert, credentials: { token: 't' } }] });
    expect((await send(`${good.url}/clusters/tls/version`)).status).toBe(200);
  });

  it('answers 504 when the server does not answer in time, but never cuts a watch that started', async () => {
    const held: IncomingMessage[] = [];
    const slow = createServer((req, res) => {
      held.push(req);
      if (req.url?.includes('watch=1')) {
        // Headers at once, as the API server sends them; the first event after three deadlines.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        setTimeout(() => res.end('{"type":"ADDED","object":{}}\n'), 600);
      }
    });
    const url = await upstream(slow);
    const proxy = await host({
      clusters: [{ name: 'slow', server: url, credentials: { token: 't' } }],
      upstreamTimeout: 200,
    });
    const res = await send(`${proxy.url}/clusters/slow/api/v1/pods`);
    expect(res.status).toBe(504);
    expect(res.json()).toMatchObject({ code: 504, reason: 'Timeout' });
    expect(message(res)).toContain('cluster "slow"');
    const watch = await send(`${proxy.url}/clusters/slow/api/v1/pods?watch=1`);
    expect(watch.status).toBe(200);
    expect(watch.body).toContain('ADDED');
    expect(held).toHaveLength(2);
  });

  it('passes an upstream 401 Status through unchanged', async () => {
    const body = '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}';
    const refusing = createServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json', 'x-upstream': 'yes' });
      res.end(body);
    });
    const url = await upstream(refusing);
    const proxy = await host({ clusters: [{ name: 'c', server: url, credentials: { token: 't' } }] });
    const res = await send(`${proxy.url}/clusters/c/api`);
    expect(res.status).toBe(401);
    expect(res.body).toBe(body);
    expect(res.headers['x-upstream']).toBe('yes');
    expect(res.headers['x-kube-cluster-proxy-error']).toBeUndefined();
  });
});

describe('upgrade pass-through of any token', () => {
  it('relays a SPDY/3.1 upgrade with every X-Stream-Protocol-Version and pipes bytes both ways', async () => {
    const seen: IncomingMessage[] = [];
    const spdy = createServer();
    spdy.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      seen.push(req);
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
          'X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n',
      );
      socket.on('data', (chunk: Buffer) => socket.write(Buffer.concat([Buffer.from('echo:'), chunk])));
    });
    const url = await upstream(spdy);
    const proxy = await host({ clusters: [{ name: 'c', server: url, credentials: { token: 'cluster-token-value' } }] });
    const { hostname, port } = new URL(proxy.url);
    const { connect } = await import('node:net');
    const socket = connect(Number(port), hostname);
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => {
      received.push(c);
      if (Buffer.concat(received).toString().includes('\r\n\r\n') && !Buffer.concat(received).toString().includes('echo:')) {
        socket.write('ping');
      }
    });
    socket.write(
      'POST /clusters/c/api/v1/namespaces/default/pods/p/exec?command=sh HTTP/1.1\r\nHost: proxy\r\n' +
        'Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n' +
        'X-Stream-Protocol-Version: v3.channel.k8s.io\r\nX-Stream-Protocol-Version: channel.k8s.io\r\n' +
        'Cookie: session=abc\r\nImpersonate-User: admin\r\nContent-Length: 0\r\n\r\n',
    );
    await expect.poll(() => Buffer.concat(received).toString(), { timeout: 5_000 }).toContain('echo:ping');
    const text = Buffer.concat(received).toString();
    expect(text).toMatch(/^HTTP\/1\.1 101 /);
    expect(text).toMatch(/Upgrade: SPDY\/3\.1/i);
    expect(text).toMatch(/X-Stream-Protocol-Version: v4\.channel\.k8s\.io/i);
    const req = seen[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/api/v1/namespaces/default/pods/p/exec?command=sh');
    expect(req.headers['x-stream-protocol-version']).toBe('v4.channel.k8s.io, v3.channel.k8s.io, channel.k8s.io');
    expect(req.headers.authorization).toBe('Bearer cluster-token-value');
    expect(req.headers.cookie).toBeUndefined();
    expect(req.headers['impersonate-user']).toBeUndefined();
    expect(req.headers.host).toBe(new URL(url).host);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    seen[0]!.socket.destroy();
    await closed; // the upstream closing closed the client side too
  });
});
