import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import type { ClusterConfig, ClusterProxyOptions } from 'kube-cluster-proxy';
import { send, startProxyHost, type ProxyHost } from '../helpers/servers.ts';
import { execQuery, runChannelSession } from '../helpers/websocket.ts';

let fake: FakeCluster;
let dir: string;
const hosts: ProxyHost[] = [];

beforeAll(async () => {
  fake = await startFakeCluster({
    name: 'cred',
    clientCertificates: true,
    tokens: { 'token-a': 'robot-a', 'token-b': 'robot-b', 'alice-token': 'alice' },
  });
  dir = await mkdtemp(join(tmpdir(), 'kcp-cred-'));
});
afterAll(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => fake.clearRequests());
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

async function proxyFor(cluster: Omit<ClusterConfig, 'name' | 'server' | 'ca'>, options: Partial<ClusterProxyOptions> = {}) {
  const host = await startProxyHost({ clusters: [{ name: 'c', server: fake.url, ca: fake.ca, ...cluster }], ...options });
  hosts.push(host);
  return host;
}

const whoami = async (host: ProxyHost, headers: Record<string, string> = {}) => {
  const res = await send(`${host.url}/clusters/c/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}',
  });
  return { status: res.status, user: (res.json() as { status?: { userInfo?: { username?: string } } }).status?.userInfo?.username, body: res.body };
};

describe('getToken', () => {
  it('is called once for 200 concurrent requests, HTTP and upgrades alike', async () => {
    let calls = 0;
    const host = await proxyFor({
      credentials: {
        getToken: async () => {
          calls++;
          await new Promise((resolve) => setTimeout(resolve, 50));
          return { token: 'token-a', expiresAt: new Date(Date.now() + 3_600_000) };
        },
      },
    });
    const http = Array.from({ length: 190 }, () => send(`${host.url}/clusters/c/api/v1/namespaces/default/pods`));
    const ws = Array.from({ length: 10 }, () =>
      runChannelSession(`${host.url.replace('http', 'ws')}/clusters/c/api/v1/namespaces/default/pods/web-cred-1/exec?${execQuery(['whoami'])}`, ['v4.channel.k8s.io']),
    );
    const [responses, sessions] = await Promise.all([Promise.all(http), Promise.all(ws)]);
    expect(calls).toBe(1);
    expect(responses.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.body}`)).toEqual([]);
    expect(sessions.every((s) => s.ok && s.session.output.get(1) === 'robot-a\n')).toBe(true);
    expect(fake.requests.every((r) => r.user === 'robot-a')).toBe(true);
  });

  it('is called again once the token nears its expiry', async () => {
    let now = Date.now();
    let calls = 0;
    const host = await proxyFor(
      {
        credentials: {
          getToken: () => {
            calls++;
            return Promise.resolve({ token: calls === 1 ? 'token-a' : 'token-b', expiresAt: new Date(now + 600_000) });
          },
        },
      },
      { now: () => now },
    );
    expect((await whoami(host)).user).toBe('robot-a');
    now += 500_000;
    expect((await whoami(host)).user).toBe('robot-a');
    now += 75_000; // 25 s before expiry
    expect((await whoami(host)).user).toBe('robot-b');
    expect(calls).toBe(2);
  });

  it('is called again after the cluster answers 401 for its token', async () => {
    let calls = 0;
    const host = await proxyFor({
      credentials: { getToken: () => Promise.resolve({ token: ++calls === 1 ? 'revoked-token' : 'token-b' }) },
    });
    expect((await whoami(host)).status).toBe(401);
    expect((await whoami(host)).user).toBe('robot-b');
    expect(calls).toBe(2);
  });

  it('answers 503 naming the source when it fails, without the token or reaching the cluster', async () => {
    const host = await proxyFor({
      credentials: { getToken: () => Promise.reject(new Error('vault is sealed')) },
    });
    const res = await send(`${host.url}/clusters/c/version`);
    expect(res.status).toBe(503);
    expect(res.json()).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
    expect((res.json() as { message: string }).message).toBe('cluster "c": getToken() failed: vault is sealed');
    expect(res.headers['retry-after']).toBe('5');
    const upgrade = await runChannelSession(`${host.url.replace('http', 'ws')}/clusters/c/api/v1/namespaces/default/pods/web-cred-1/exec?${execQuery(['ls'])}`, ['v4.channel.k8s.io']);
    expect(upgrade).toMatchObject({ ok: false, status: 503 });
    expect(fake.requests).toHaveLength(0);
  });

  it('redacts anything token-like that its error message carries', async () => {
    const leaked = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz';
    const host = await proxyFor({ credentials: { getToken: () => Promise.reject(new Error(`refused ${leaked}`)) } });
    const res = await send(`${host.url}/clusters/c/version`);
    expect(res.status).toBe(503);
    expect(res.body).not.toContain(leaked);
    expect((res.json() as { message: string }).message).toBe('cluster "c": getToken() failed: refused [redacted]');
  });

  it('answers 503 when it returns something that is not a token', async () => {
    const host = await proxyFor({ credentials: { getToken: () => Promise.resolve({ token: '' }) } });
    const res = await send(`${host.url}/clusters/c/version`);
    expect(res.status).toBe(503);
    expect(res.body).toContain('did not return');
  });
});

describe('tokenFile', () => {
  it('picks up a rotated token after the re-read interval', async () => {
    const file = join(dir, 'rotating');
    await writeFile(file, 'token-a\n');
    let now = Date.now();
    const host = await proxyFor({ credentials: { tokenFile: file } }, { now: () => now });
    expect((await whoami(host)).user).toBe('robot-a');
    await writeFile(file, 'token-b\n');
    expect((await whoami(host)).user).toBe('robot-a');
    now += 61_000;
    expect((await whoami(host)).user).toBe('robot-b');
  });

  it('answers 503 naming the file when it was never readable', async () => {
    const missing = join(dir, 'missing-token');
    const host = await proxyFor({ credentials: { tokenFile: missing } });
    const res = await send(`${host.url}/clusters/c/version`);
    expect(res.status).toBe(503);
    expect((res.json() as { message: string }).message).toContain(missing);
    expect(res.body).toContain('ENOENT');
  });
});

describe('client certificates', () => {
  it("authenticate the cluster's identity in 'cluster' mode", async () => {
    const { cert, key } = fake.issueClientCertificate('cert-robot', ['robots']);
    const host = await proxyFor({ credentials: { clientCertificate: cert, clientKey: key } });
    const result = await whoami(host, { authorization: 'Bearer alice-token' });
    expect(result.user).toBe('cert-robot');
    expect(fake.requests.at(-1)).toMatchObject({ authenticatedBy: 'certificate' });
    expect(fake.requests.at(-1)!.headers.authorization).toBeUndefined();
  });

  it("are never presented with the user's identity in 'user-then-cluster' mode", async () => {
    const { cert, key } = fake.issueClientCertificate('cert-robot');
    const host = await proxyFor({ credentials: { clientCertificate: cert, clientKey: key }, authMode: 'user-then-cluster' });
    // The API server authenticates a certificate before a token: had the proxy presented it, the
    // user would run as cert-robot.
    expect((await whoami(host, { authorization: 'Bearer alice-token' })).user).toBe('alice');
    expect(fake.requests.at(-1)).toMatchObject({ authenticatedBy: 'token' });
    expect((await whoami(host)).user).toBe('cert-robot');
  });
});
