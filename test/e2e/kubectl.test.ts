import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, delimiter } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { startProxyHost, type ProxyHost } from '../helpers/servers.ts';

const run = promisify(execFile);
const kubectl = (process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'kubectl')).find((p) => existsSync(p));

let fake: FakeCluster;
let proxy: ProxyHost;
let plainProxy: ProxyHost;
let dir: string;

type Context = 'own' | 'alice' | 'nobody' | 'plain-http';

async function kube(context: Context, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    // stdin closed: with no credentials over TLS, kubectl would otherwise wait for a user name.
    const child = run(kubectl!, ['--kubeconfig', join(dir, 'config'), '--context', context, ...args], { timeout: 20_000 });
    child.child.stdin?.end();
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe.skipIf(!kubectl)('kubectl through the proxy (needs kubectl on the PATH)', () => {
  beforeAll(async () => {
    fake = await startFakeCluster({ name: 'kc', tokens: { 'alice-token': 'alice', 'svc-token': 'dashboard' } });
    // HTTPS: client-go sends bearer tokens only over TLS.
    const ca = createCertificateAuthority({ commonName: 'dashboard CA' });
    proxy = await startProxyHost(
      {
        clusters: [
          { name: 'user', server: fake.url, ca: fake.ca },
          { name: 'own', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } },
        ],
      },
      'express5',
      ca.issue({ commonName: 'dashboard', ipAddresses: ['127.0.0.1'], usage: 'server' }),
    );
    plainProxy = await startProxyHost({ clusters: [{ name: 'user', server: fake.url, ca: fake.ca }] });
    dir = await mkdtemp(join(tmpdir(), 'kcp-kubectl-'));
    const caData = Buffer.from(ca.cert).toString('base64');
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        ...['user', 'own'].map((name) => ({
          name,
          cluster: { server: `${proxy.url}/clusters/${name}`, 'certificate-authority-data': caData },
        })),
        { name: 'plain-http', cluster: { server: `${plainProxy.url}/clusters/user` } },
      ],
      users: [
        { name: 'alice', user: { token: 'alice-token' } },
        { name: 'nobody', user: { token: 'wrong-token' } },
        // Over TLS, a user without any credentials makes kubectl prompt for a user name; the
        // proxy replaces this token with the cluster's own in 'cluster' mode.
        { name: 'robot', user: { token: 'ignored-by-the-proxy' } },
      ],
      contexts: [
        { name: 'own', context: { cluster: 'own', user: 'robot', namespace: 'default' } },
        { name: 'alice', context: { cluster: 'user', user: 'alice', namespace: 'default' } },
        { name: 'nobody', context: { cluster: 'user', user: 'nobody', namespace: 'default' } },
        { name: 'plain-http', context: { cluster: 'plain-http', user: 'alice', namespace: 'default' } },
      ],
      'current-context': 'own',
    };
    await writeFile(join(dir, 'config'), JSON.stringify(config));
  });
  afterAll(async () => {
    await plainProxy.close();
    await proxy.close();
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('kubectl get pods (cluster credentials)', async () => {
    fake.clearRequests();
    const { code, stdout } = await kube('own', ['get', 'pods']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^NAME\s+READY\s+STATUS/);
    expect(stdout).toContain('web-kc-1');
    expect(fake.requests.map((r) => r.headers.authorization)).not.toContain('Bearer ignored-by-the-proxy');
    expect(fake.requests.at(-1)?.user).toBe('dashboard');
  });

  it("kubectl exec over WebSocket with the user's token", async () => {
    fake.clearRequests();
    const { code, stdout, stderr } = await kube('alice', ['exec', 'web-kc-1', '--', 'whoami']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe('alice\n');
    const upgrade = fake.requests.find((r) => r.upgrade);
    expect(upgrade?.headers['sec-websocket-protocol']).toContain('v5.channel.k8s.io');
    expect(upgrade?.headers.authorization).toBe('Bearer alice-token');
  });

  it('kubectl exec passes the exit code through', async () => {
    const { code } = await kube('own', ['exec', 'web-kc-1', '--', 'sh', '-c', 'exit 7']);
    expect(code).toBe(7);
  });

  it('kubectl logs and auth whoami', async () => {
    const logs = await kube('own', ['logs', 'web-kc-2']);
    expect(logs.stdout).toContain('web-kc-2 starting');
    const who = await kube('alice', ['auth', 'whoami']);
    expect(who.stdout).toMatch(/Username\s+alice/);
  });

  it('kubectl over plain http (which never sends tokens) gets the proxy 401, not a 502', async () => {
    fake.clearRequests();
    const { code, stderr } = await kube('plain-http', ['get', 'pods']);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/Unauthorized|logged in|credentials/);
    expect(stderr).not.toMatch(/502|Bad Gateway/);
    expect(fake.requests).toHaveLength(0);
  });

  it('kubectl exec with a rejected token fails with Unauthorized', async () => {
    const { code, stderr } = await kube('nobody', ['exec', 'web-kc-1', '--', 'ls']);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/Unauthorized|logged in|credentials/i);
  });
});
