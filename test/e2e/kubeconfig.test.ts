import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { bearerSubprotocol, createClusterProxy, kubeconfigClusters } from 'kube-cluster-proxy';
import { send, startProxyHost, type ProxyHost } from '../helpers/servers.ts';
import { execQuery, runChannelSession } from '../helpers/websocket.ts';

let a: FakeCluster;
let b: FakeCluster;
let dir: string;

beforeAll(async () => {
  a = await startFakeCluster({ name: 'a', tokens: { 'svc-a': 'robot-a', 'alice-token': 'alice' } });
  b = await startFakeCluster({ name: 'b', tokens: { 'svc-a': 'robot-on-b', 'svc-b': 'robot-b' } });
  dir = await mkdtemp(join(tmpdir(), 'kcp-kubeconfig-e2e-'));
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
  await rm(dir, { recursive: true, force: true });
});

const caData = (fake: FakeCluster) => Buffer.from(fake.ca).toString('base64');

function kubeconfig(options: { alphaServer: FakeCluster; beta?: boolean }): string {
  return `apiVersion: v1
kind: Config
current-context: alpha
clusters:
- name: cluster-alpha
  cluster: { server: "${options.alphaServer.url}", certificate-authority-data: ${caData(options.alphaServer)} }
- name: cluster-b
  cluster: { server: "${b.url}", certificate-authority-data: ${caData(b)} }
users:
- name: robot
  user: { token: svc-a }
- name: robot-b
  user: { token: svc-b }
- name: oidc-user
  user:
    auth-provider:
      name: oidc
      config: { idp-issuer-url: "https://login.corp.example", client-id: kubernetes }
contexts:
- name: alpha
  context: { cluster: cluster-alpha, user: robot }
- name: corp-oidc
  context: { cluster: cluster-alpha, user: oidc-user, namespace: default }
${options.beta ? '- name: beta\n  context: { cluster: cluster-b, user: robot-b }\n' : ''}`;
}

describe('the seed scenario: an OIDC auth-provider context without tokens', () => {
  let host: ProxyHost;
  beforeAll(async () => {
    const file = join(dir, 'seed.yaml');
    await writeFile(file, kubeconfig({ alphaServer: a }));
    // Exactly the usage the issue asks to work as written.
    host = await startProxyHost({ clusters: kubeconfigClusters({ paths: [file], watch: false, authMode: 'user-then-cluster' }) });
  });
  afterAll(() => host.close());

  it("a WebSocket exec carrying the user's token in the subprotocol works: the auth-provider is never consulted", async () => {
    a.clearRequests();
    const result = await runChannelSession(
      `${host.url.replace('http', 'ws')}/clusters/corp-oidc/api/v1/namespaces/default/pods/web-a-1/exec?${execQuery(['whoami'])}`,
      [bearerSubprotocol('alice-token'), 'v5.channel.k8s.io'],
    );
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.session.protocol).toBe('v5.channel.k8s.io');
      expect(result.session.output.get(1)).toBe('alice\n');
    }
    expect(a.requests.at(-1)?.headers.authorization).toBe('Bearer alice-token');
  });

  it('the same over HTTP with the Authorization header', async () => {
    const res = await send(`${host.url}/clusters/corp-oidc/api/v1/namespaces/default/pods`, { headers: { authorization: 'Bearer alice-token' } });
    expect(res.status).toBe(200);
  });

  it('without a token: 401 telling the user to log in, never 502, and the cluster is not contacted', async () => {
    a.clearRequests();
    const result = await runChannelSession(
      `${host.url.replace('http', 'ws')}/clusters/corp-oidc/api/v1/namespaces/default/pods/web-a-1/exec?${execQuery(['whoami'])}`,
      ['v5.channel.k8s.io'],
    );
    expect(result).toMatchObject({ ok: false, status: 401 });
    if (!result.ok) expect((JSON.parse(result.body) as { message: string }).message).toMatch(/log in/i);
    const http = await send(`${host.url}/clusters/corp-oidc/api/v1/pods`);
    expect(http.status).toBe(401);
    expect(a.requests).toHaveLength(0);
  });

  it('the default context works with its own token', async () => {
    const res = await send(`${host.url}/clusters/alpha/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}',
    });
    expect(res.json()).toMatchObject({ status: { userInfo: { username: 'robot-a' } } });
  });
});

describe('watching kubeconfig files through the proxy', () => {
  it('adds, changes and removes contexts, survives broken YAML, and keeps an open exec session', async () => {
    const file = join(dir, 'watched.yaml');
    await writeFile(file, kubeconfig({ alphaServer: a }));
    const resolverErrors: Error[] = [];
    const host = await startProxyHost({
      clusters: kubeconfigClusters({ paths: [file], debounceMs: 50 }),
      on: { resolverError: ({ error }) => resolverErrors.push(error) },
    });
    const whoami = async (cluster: string) => {
      const res = await send(`${host.url}/clusters/${cluster}/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}',
      });
      return res.status === 201 ? (res.json() as { status: { userInfo: { username: string } } }).status.userInfo.username : res.status;
    };
    try {
      // An exec session (cat) open through alpha for the whole test.
      const ws = new WebSocket(`${host.url.replace('http', 'ws')}/clusters/alpha/api/v1/namespaces/default/pods/web-a-1/exec?${execQuery(['cat'], true)}`, ['v4.channel.k8s.io']);
      let echoed = '';
      ws.on('message', (data: Buffer) => {
        if (data[0] === 1) echoed += data.subarray(1).toString();
      });
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const roundTrip = async (text: string) => {
        ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(text)]));
        await expect.poll(() => echoed, { timeout: 3_000 }).toContain(text);
      };
      await roundTrip('before;');
      expect(await whoami('beta')).toBe(404);

      await writeFile(file, kubeconfig({ alphaServer: a, beta: true }));
      await expect.poll(() => whoami('beta'), { timeout: 3_000 }).toBe('robot-b');
      await roundTrip('after-add;');

      await writeFile(file, kubeconfig({ alphaServer: b, beta: true }));
      await expect.poll(() => whoami('alpha'), { timeout: 3_000 }).toBe('robot-on-b');
      await roundTrip('after-change;');

      await writeFile(file, kubeconfig({ alphaServer: b }));
      await expect.poll(() => whoami('beta'), { timeout: 3_000 }).toBe(404);

      await writeFile(file, 'clusters: [\n  oops');
      await expect.poll(() => resolverErrors.length, { timeout: 3_000 }).toBeGreaterThan(0);
      expect(resolverErrors.at(-1)?.message).toMatch(/watched\.yaml: invalid YAML/);
      expect(await whoami('alpha')).toBe('robot-on-b');
      await roundTrip('after-break;');

      await writeFile(file, kubeconfig({ alphaServer: a }));
      await expect.poll(() => whoami('alpha'), { timeout: 3_000 }).toBe('robot-a');
      await roundTrip('after-fix;');
      expect(ws.readyState).toBe(WebSocket.OPEN);
      ws.close();
    } finally {
      await host.close();
    }
  });

  it('a broken context at load time is reported through the hook and answers a Status naming it', async () => {
    const file = join(dir, 'broken-context.yaml');
    await writeFile(
      file,
      `${kubeconfig({ alphaServer: a })}- name: broken
  context: { cluster: cluster-alpha, user: ghost }
`,
    );
    const errors: Error[] = [];
    const proxy = createClusterProxy({ clusters: kubeconfigClusters({ paths: [file], watch: false }), on: { resolverError: ({ error }) => errors.push(error) } });
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/context "broken": .*refers to user "ghost"/)]);
    await proxy.close();
    const host = await startProxyHost({ clusters: kubeconfigClusters({ paths: [file], watch: false }), logger: { warn() {}, error() {} } });
    try {
      const res = await send(`${host.url}/clusters/broken/version`);
      expect(res.status).toBe(500);
      expect(res.json()).toMatchObject({ kind: 'Status', reason: 'InternalError', details: { name: 'broken' } });
      expect((res.json() as { message: string }).message).toMatch(/context "broken".*ghost/);
      expect((await send(`${host.url}/clusters/alpha/version`)).status).toBe(200);
    } finally {
      await host.close();
    }
  });
});
