import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { send, startProxyHost, type ProxyHost } from '../helpers/servers.ts';
import { exchangeRaw, startLoggingUpstream, type LoggingUpstream } from '../helpers/raw-http.ts';

// The attack report's reproductions, each as it was sent, against the fake cluster over TLS.
let fake: FakeCluster;
let host: ProxyHost;
let upstream: LoggingUpstream;
const escaped: unknown[] = [];
const trap = (error: unknown) => escaped.push(error);

beforeAll(async () => {
  process.on('unhandledRejection', trap);
  process.on('uncaughtException', trap);
  fake = await startFakeCluster({ name: 'fake', clientCertificates: true, tokens: { 'alice-token': 'alice', 'admin-token': 'admin' } });
  const robot = fake.issueClientCertificate('robot', ['system:masters']);
  upstream = await startLoggingUpstream();
  host = await startProxyHost({
    clusters: [
      { name: 'cc', server: fake.url, ca: fake.ca, credentials: { clientCertificate: robot.cert, clientKey: robot.key } },
      { name: 'u', server: fake.url, ca: fake.ca },
      { name: 'logged', server: upstream.url, credentials: { token: 'cluster-token-1' } },
    ],
  });
});
afterAll(async () => {
  process.off('unhandledRejection', trap);
  process.off('uncaughtException', trap);
  await host.close();
  await fake.close();
  await upstream.close();
});

const port = () => Number(new URL(host.url).port);
const podExists = async () =>
  (await send(`${host.url}/clusters/u/api/v1/namespaces/default/pods/web-fake-2`, { headers: { authorization: 'Bearer admin-token' } })).status === 200;

describe('request smuggling through a Connection listing (critical)', () => {
  const smuggled =
    'DELETE /api/v1/namespaces/default/pods/web-fake-2 HTTP/1.1\r\nHost: x\r\nImpersonate-User: eve\r\n' +
    'Impersonate-Group: system:masters\r\nContent-Length: 0\r\n\r\n';

  it.each(['content-length', 'Content-Length', 'keep-alive, content-length'])('Connection: %s does not smuggle a DELETE; the pod survives', async (listing) => {
    for (const method of ['GET', 'HEAD', 'DELETE', 'OPTIONS']) {
      fake.clearRequests();
      // The report's request, plus a second Connection line so that the proxy closes when done.
      const raw = `${method} /clusters/cc/version HTTP/1.1\r\nHost: x\r\nConnection: ${listing}\r\nContent-Length: ${smuggled.length}\r\nConnection: close\r\n\r\n${smuggled}`;
      const answer = await exchangeRaw(port(), Buffer.from(raw), 1_000);
      expect(answer.responses[0]?.status, `${method}: ${answer.text.slice(0, 200)}`).toBeGreaterThan(0);
      // Give a smuggled request time to arrive, had it been sent.
      await delay(50);
      expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`${method} /version`]);
    }
    expect(await podExists()).toBe(true);
  });
});

describe('a token that cannot be a header value (high)', () => {
  it('an upgrade whose subprotocol token decodes above U+00FF answers 400 and the process lives', async () => {
    const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const ws = new WebSocket(`${host.url.replace('http', 'ws')}/clusters/u/api/v1/namespaces/default/pods/web-fake-1/exec?command=ls&stdout=true`, [
        'base64url.bearer.authorization.k8s.io.xIA',
        'v4.channel.k8s.io',
      ]);
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.on('open', () => reject(new Error('opened')));
      ws.on('error', () => {});
    });
    expect(result.status).toBe(400);
    expect(JSON.parse(result.body)).toMatchObject({ kind: 'Status', code: 400, message: expect.stringContaining('visible ASCII') });
    expect(escaped).toEqual([]);
  });

  it('a cookie holding %C4%80 with a same-host Origin answers 400, over HTTP and upgrades', async () => {
    const http = await send(`${host.url}/clusters/u/version`, { headers: { cookie: 'cluster-token=%C4%80', origin: host.url } });
    expect(http.status).toBe(400);
    const raw = await exchangeRaw(
      port(),
      Buffer.from(
        'GET /clusters/u/api/v1/namespaces/default/pods/web-fake-1/exec?command=ls HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nCookie: cluster-token=%C4%80\r\nOrigin: http://127.0.0.1:${port()}\r\n\r\n`,
      ),
      1_000,
    );
    expect(raw.responses[0]?.status).toBe(400);
    expect(escaped).toEqual([]);
    expect((await send(`${host.url}/clusters/u/version`, { headers: { authorization: 'Bearer alice-token' } })).status).toBe(200);
  });

  it('over plain HTTP a header token above U+00FF answers 400, not 502', async () => {
    const raw = await exchangeRaw(port(), Buffer.from('GET /clusters/u/version HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xc4\x80\r\nConnection: close\r\n\r\n', 'latin1'), 1_000);
    expect(raw.responses[0]?.status).toBe(400);
  });
});

describe('Expect: 100-continue keeps the deadline (medium)', () => {
  let blackHole: NetServer;
  let proxy: ProxyHost;
  const sockets: Socket[] = [];
  const received: string[] = [];
  beforeAll(async () => {
    // Reads the request and never answers. The report's cluster answered `100 Continue` to the
    // forwarded Expect; the proxy no longer forwards it (Node already told the client to go on).
    blackHole = createNetServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => {});
      socket.on('data', (chunk: Buffer) => received.push(chunk.toString('latin1')));
    });
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const { port: holePort } = blackHole.address() as { port: number };
    proxy = await startProxyHost({ clusters: [{ name: 'hole', server: `http://127.0.0.1:${holePort}`, credentials: { token: 't' } }], upstreamTimeout: 300 });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await proxy.close();
    await new Promise((resolve) => blackHole.close(resolve));
  });

  it('answers 504 after upstreamTimeout', async () => {
    const res = await send(`${proxy.url}/clusters/hole/api/v1/namespaces/default/configmaps`, {
      method: 'POST',
      headers: { expect: '100-continue', 'content-type': 'application/json', 'content-length': '2' },
      body: '{}',
    });
    expect(res.status, res.body).toBe(504);
    expect(res.json()).toMatchObject({ kind: 'Status', reason: 'Timeout' });
    expect(received.join('')).toMatch(/^POST /);
    expect(received.join('')).not.toMatch(/\r\nexpect:/i);
  });
});

describe('client input that made 500s (low)', () => {
  it('Connection: x-upgrade with Upgrade: websocket is a plain request, not the attach() mistake', async () => {
    const raw = await exchangeRaw(port(), Buffer.from('GET /clusters/u/version HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer alice-token\r\nConnection: x-upgrade, close\r\nUpgrade: websocket\r\n\r\n'), 1_000);
    expect(raw.responses[0]?.status).toBe(200);
  });

  it('Express matches /CLUSTERS without regard to case, and so does the proxy', async () => {
    const res = await send(`${host.url}/CLUSTERS/u/version`, { headers: { authorization: 'Bearer alice-token' } });
    expect(res.status).toBe(200);
    const without = await send(`${host.url}/Clusters/u/version`);
    expect(without.status).toBe(401);
  });

  it('an upgrade with a body is refused before the cluster', async () => {
    upstream.records.length = 0;
    const raw = await exchangeRaw(
      port(),
      Buffer.from('GET /clusters/logged/api/v1/namespaces/default/pods/p/exec HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 5\r\n\r\nhello'),
      1_000,
    );
    expect(raw.responses[0]?.status).toBe(400);
    expect(upstream.records).toEqual([]);
  });

  it('a bearer entry missing its dot is refused for a user cluster and never forwarded to a cluster-mode one', async () => {
    const entry = `base64url.bearer.authorization.k8s.io${Buffer.from('alice-token').toString('base64url')}`;
    const refused = await exchangeRaw(
      port(),
      Buffer.from(
        'GET /clusters/u/api/v1/namespaces/default/pods/web-fake-1/exec?command=ls HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: ${entry}, v4.channel.k8s.io\r\n\r\n`,
      ),
      1_000,
    );
    expect(refused.responses[0]?.status).toBe(400);
    upstream.records.length = 0;
    await exchangeRaw(
      port(),
      Buffer.from(
        'GET /clusters/logged/api/v1/namespaces/default/pods/p/exec?command=ls HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: ${entry}, v4.channel.k8s.io\r\n\r\n`,
      ),
      1_000,
    );
    expect(upstream.records).toHaveLength(1);
    expect(upstream.records[0]!.headers['sec-websocket-protocol']).toBe('v4.channel.k8s.io');
  });

  it('a request line without an HTTP version never reaches the cluster', async () => {
    upstream.records.length = 0;
    const raw = await exchangeRaw(port(), Buffer.from('GET /clusters/logged/version\r\n\r\n'), 1_000);
    expect(upstream.records).toEqual([]);
    expect(raw.text === '' || /^HTTP\/1\.[01] 4\d\d/.test(raw.text)).toBe(true);
  });
});

describe('an upgraded client that goes away while output flows', () => {
  it('a reset ends the cluster side at once', async () => {
    const ws = new WebSocket(
      `${host.url.replace('http', 'ws')}/clusters/u/api/v1/namespaces/default/pods/web-fake-1/exec?command=bytes&command=1000000000&stdout=true`,
      ['v4.channel.k8s.io'],
      { headers: { authorization: 'Bearer alice-token' } },
    );
    await new Promise<void>((resolve, reject) => {
      ws.once('message', () => resolve());
      ws.once('error', reject);
    });
    expect(fake.activeStreams('exec')).toBe(1);
    // Pause reading so that output is queued, then reset the connection.
    ws.pause();
    await delay(50);
    (ws as unknown as { _socket: Socket })._socket.resetAndDestroy();
    const started = Date.now();
    while (fake.activeStreams('exec') > 0 && Date.now() - started < 3_000) await delay(20);
    expect(fake.activeStreams('exec')).toBe(0);
  });
});
