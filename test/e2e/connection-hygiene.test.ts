import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { parseRaw, sendRaw, startProxyHost, type ProxyHost } from '../helpers/servers.ts';

let fake: FakeCluster;
let host: ProxyHost;
beforeAll(async () => {
  fake = await startFakeCluster({ name: 'conn', tokens: { 'svc-token': 'svc' } });
  host = await startProxyHost({ clusters: [{ name: 'c', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } }] });
  // The fake (a Node server) says `Keep-Alive: timeout=5` of its connection to the proxy; the
  // proxy's own server, set apart here, may say its own.
  host.server.keepAliveTimeout = 7_000;
});
afterAll(async () => {
  await host.close();
  await fake.close();
});

describe('connection headers', () => {
  it("honours the client's Connection: close and never relays the cluster's Keep-Alive", async () => {
    const started = performance.now();
    const raw = await sendRaw(host.url, 'GET /clusters/c/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 5_000);
    // The socket closed right after the answer, long before the 5 s give-up.
    expect(performance.now() - started).toBeLessThan(4_000);
    expect(parseRaw(raw).status).toBe(200);
    const head = raw.slice(0, raw.indexOf('\r\n\r\n')).toLowerCase();
    expect(head).toContain('connection: close');
    expect(head).not.toContain('keep-alive');
  });

  it('keeps the connection of a keep-alive client, without the cluster\'s Keep-Alive parameters', async () => {
    const raw = await sendRaw(host.url, 'GET /clusters/c/version HTTP/1.1\r\nHost: x\r\n\r\n', 500);
    const head = raw.slice(0, raw.indexOf('\r\n\r\n')).toLowerCase();
    expect(parseRaw(raw).status).toBe(200);
    expect(head).not.toMatch(/keep-alive: timeout=5/);
  });
});

describe('attach() as the only upgrade listener', () => {
  it('answers an upgrade outside the mount path with a 404 Status instead of leaving it hanging', async () => {
    const raw = await sendRaw(
      host.url,
      'GET /elsewhere HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      5_000,
    );
    expect(parseRaw(raw)).toMatchObject({ status: 404, body: { kind: 'Status', code: 404 } });
  });
});
