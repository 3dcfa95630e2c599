import { createServer } from 'node:http';
import { PassThrough, Writable } from 'node:stream';
import { Exec, KubeConfig, type V1Status } from '@kubernetes/client-node';
import WebSocket, { WebSocketServer } from 'ws';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { bearerSubprotocol, createClusterProxy, type UpgradeEvent } from 'kube-cluster-proxy';
import { closeServer, listen, startProxyHost, type ProxyHost } from '../helpers/servers.ts';
import { execQuery, runChannelSession } from '../helpers/websocket.ts';

const TOKEN = 'alice-token';
let fake: FakeCluster;
let proxy: ProxyHost;
const upgrades: UpgradeEvent[] = [];

beforeAll(async () => {
  fake = await startFakeCluster({ name: 'ws', tokens: { [TOKEN]: 'alice', 'svc-token': 'dashboard' } });
  // No request has reached this server before the upgrade tests below run.
  proxy = await startProxyHost({
    clusters: [
      { name: 'user', server: fake.url, ca: fake.ca },
      { name: 'own', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } },
    ],
    allowedOrigins: ['https://dash.example.com'],
    on: { upgrade: (e) => upgrades.push(e) },
  });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});
beforeEach(() => fake.clearRequests());

function wsUrl(cluster: string, pod: string, command: string[], stdin = false): string {
  return `${proxy.url.replace('http', 'ws')}/clusters/${cluster}/api/v1/namespaces/default/pods/${pod}/exec?${execQuery(command, stdin)}`;
}

describe('exec over WebSocket through the proxy', () => {
  it('works as the very first request, with the token in the subprotocol (base64url)', async () => {
    const result = await runChannelSession(wsUrl('user', 'web-ws-1', ['whoami']), [bearerSubprotocol(TOKEN), 'v5.channel.k8s.io', 'v4.channel.k8s.io']);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.session.protocol).toBe('v5.channel.k8s.io');
    expect(result.session.output.get(1)).toBe('alice\n');
    expect(result.session.status?.status).toBe('Success');
    const seen = fake.requests.at(-1)!;
    expect(seen.upgrade).toBe(true);
    expect(seen.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(seen.headers['sec-websocket-protocol']).toBe('v5.channel.k8s.io, v4.channel.k8s.io');
  });

  it('accepts the token in unpadded standard base64, as browser code often sends it', async () => {
    const token = 'x>y?z~';
    fake.addToken(token, 'bob');
    const standard = Buffer.from(token).toString('base64').replace(/=+$/, '');
    expect(standard).toMatch(/[+/]/);
    const result = await runChannelSession(wsUrl('user', 'web-ws-1', ['whoami']), [
      `base64url.bearer.authorization.k8s.io.${standard}`,
      'v4.channel.k8s.io',
    ]);
    expect(result.ok && result.session.output.get(1)).toBe('bob\n');
  });

  it('runs stdin through cat and reports a non-zero exit code', async () => {
    const cat = await runChannelSession(wsUrl('own', 'web-ws-1', ['cat'], true), ['v5.channel.k8s.io'], {
      stdin: 'hello through the proxy',
      closeStdin: true,
    });
    expect(cat.ok && cat.session.output.get(1)).toBe('hello through the proxy');
    const failing = await runChannelSession(wsUrl('own', 'web-ws-1', ['sh', '-c', 'exit 3']), ['v4.channel.k8s.io']);
    expect(failing.ok && failing.session.status).toMatchObject({
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ message: '3' }] },
    });
  });

  it('answers 401 without a token and 400 for a token entry alone, without contacting the cluster', async () => {
    const none = await runChannelSession(wsUrl('user', 'web-ws-1', ['ls']), ['v4.channel.k8s.io']);
    expect(none).toMatchObject({ ok: false, status: 401 });
    if (!none.ok) expect(JSON.parse(none.body)).toMatchObject({ kind: 'Status', code: 401, reason: 'Unauthorized' });
    const alone = await runChannelSession(wsUrl('user', 'web-ws-1', ['ls']), [bearerSubprotocol(TOKEN)]);
    expect(alone).toMatchObject({ ok: false, status: 400 });
    expect(fake.requests).toHaveLength(0);
  });

  it('relays the cluster refusing a wrong token (401 Status from the cluster)', async () => {
    const wrong = await runChannelSession(wsUrl('user', 'web-ws-1', ['ls']), [bearerSubprotocol('nope'), 'v4.channel.k8s.io']);
    expect(wrong).toMatchObject({ ok: false, status: 401 });
    expect(fake.requests).toHaveLength(1);
  });

  it('works with @kubernetes/client-node Exec (Authorization header)', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      // client-node speaks plain http only when told that TLS is not verified.
      clusters: [{ name: 'proxy', server: `${proxy.url}/clusters/user`, skipTLSVerify: true }],
      users: [{ name: 'alice', token: TOKEN }],
      contexts: [{ name: 'ctx', cluster: 'proxy', user: 'alice' }],
      currentContext: 'ctx',
    });
    let stdout = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        stdout += chunk.toString();
        done();
      },
    });
    const status = await new Promise<V1Status>((resolve, reject) => {
      new Exec(kc)
        .exec('default', 'web-ws-1', 'app', ['echo', 'from', 'client-node'], sink, new PassThrough(), null, false, resolve)
        .catch(reject);
    });
    expect(status.status).toBe('Success');
    expect(stdout).toBe('from client-node\n');
    expect(fake.requests.at(-1)!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('reports upgrades to the hook with the identity and never the token', () => {
    const opened = upgrades.filter((e) => e.phase === 'open');
    expect(opened.length).toBeGreaterThan(0);
    expect(opened[0]).toMatchObject({ cluster: 'user', identity: { kind: 'user', source: 'subprotocol' }, upgrade: true });
    expect(upgrades.some((e) => e.phase === 'close')).toBe(true);
    expect(JSON.stringify(upgrades)).not.toContain(TOKEN);
  });
});

describe('cookie-authenticated upgrades', () => {
  const cookie = `cluster-token=${TOKEN}`;

  it('are accepted from the proxy host itself and from allowedOrigins', async () => {
    for (const origin of [proxy.url, 'https://dash.example.com']) {
      const result = await runChannelSession(wsUrl('user', 'web-ws-1', ['whoami']), ['v4.channel.k8s.io'], {
        headers: { cookie, origin },
      });
      expect(result.ok && result.session.output.get(1)).toBe('alice\n');
    }
    expect(fake.requests.every((r) => r.headers.cookie === undefined)).toBe(true);
  });

  it('are refused with 403 from a foreign origin or without one, before the cluster', async () => {
    for (const headers of [{ cookie, origin: 'https://evil.example' }, { cookie }] as Record<string, string>[]) {
      const result = await runChannelSession(wsUrl('user', 'web-ws-1', ['whoami']), ['v4.channel.k8s.io'], { headers });
      expect(result).toMatchObject({ ok: false, status: 403 });
      if (!result.ok) expect(JSON.parse(result.body)).toMatchObject({ reason: 'Forbidden', code: 403 });
    }
    expect(fake.requests).toHaveLength(0);
  });
});

describe('attach() on a shared server', () => {
  it('leaves other upgrade listeners alone: a second WebSocket server keeps working', async () => {
    const server = createServer();
    const other = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) => {
      if (req.url === '/live') {
        other.handleUpgrade(req, socket, head, (ws) => {
          ws.on('message', (m: Buffer) => ws.send(`echo ${m.toString()}`));
          ws.send('hello from /live');
        });
      }
    });
    const shared = createClusterProxy({ clusters: [{ name: 'own', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } }] });
    shared.attach(server);
    shared.attach(server); // twice: still one listener
    expect(server.listenerCount('upgrade')).toBe(2);
    const base = (await listen(server)).replace('http', 'ws');
    try {
      const messages = await new Promise<string[]>((resolve, reject) => {
        const ws = new WebSocket(`${base}/live`);
        const got: string[] = [];
        ws.on('message', (m: Buffer) => {
          got.push(m.toString());
          if (got.length === 1) ws.send('ping');
          else ws.close();
        });
        ws.on('close', () => resolve(got));
        ws.on('error', reject);
      });
      expect(messages).toEqual(['hello from /live', 'echo ping']);
      const exec = await runChannelSession(
        `${base}/clusters/own/api/v1/namespaces/default/pods/web-ws-1/exec?${execQuery(['whoami'])}`,
        ['v4.channel.k8s.io'],
      );
      expect(exec.ok && exec.session.output.get(1)).toBe('dashboard\n');
    } finally {
      await shared.close();
      expect(server.listenerCount('upgrade')).toBe(1);
      other.close();
      await closeServer(server);
    }
  });

  it('close() ends open upgraded connections', async () => {
    const local = await startProxyHost({
      clusters: [{ name: 'own', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } }],
    });
    const ws = new WebSocket(
      `${local.url.replace('http', 'ws')}/clusters/own/api/v1/namespaces/default/pods/web-ws-1/exec?${execQuery(['cat'], true)}`,
      ['v4.channel.k8s.io'],
    );
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    await expect.poll(() => fake.activeStreams('exec')).toBe(1);
    const closed = new Promise((resolve) => ws.once('close', resolve));
    await local.close();
    await closed;
    await expect.poll(() => fake.activeStreams('exec')).toBe(0);
  });
});
