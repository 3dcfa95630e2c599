import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import type { ClusterConfig, ClusterProxyOptions, ExecPluginConfig } from 'kube-cluster-proxy';
import { send, startProxyHost, type ProxyHost } from '../helpers/servers.ts';
import { execQuery, runChannelSession } from '../helpers/websocket.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/exec-plugins/', import.meta.url));
const PLUGIN = join(FIXTURES, 'plugin.js');
const V1 = 'client.authentication.k8s.io/v1';
const V1BETA1 = 'client.authentication.k8s.io/v1beta1';

// Shaped like the real thing, so that a leak would also be caught by a pattern, not only by value.
const EKS_TOKEN = `k8s-aws-v1.${Buffer.from('https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Signature=4f1c').toString('base64url')}`;
const GKE_TOKEN = 'ya29.c.b0AXv0zTOq3m1E8x7gkq2b_Mv4ZsJH1WqkQ6C9ZJm2fV';
const AKS_TOKEN = `eyJhbGciOiJSUzI1NiJ9.${Buffer.from('{"aud":"6dae42f8-4368-4678-94ff-3960e28e3630"}').toString('base64url')}.c2lnbmF0dXJl`;

let fake: FakeCluster;
let dir: string;
let savedPath: string | undefined;
let record: string;
let recordCount = 0;
const hosts: ProxyHost[] = [];

beforeAll(async () => {
  fake = await startFakeCluster({
    name: 'exec',
    clientCertificates: true,
    tokens: { [EKS_TOKEN]: 'eks-user', [GKE_TOKEN]: 'gke-user', [AKS_TOKEN]: 'aks-user', 'token-b': 'robot-b' },
  });
  dir = await mkdtemp(join(tmpdir(), 'kcp-exec-'));
  // The proxy's own PATH, as where `aws` or `kubelogin` would be installed.
  savedPath = process.env.PATH;
  process.env.PATH = `${join(FIXTURES, 'bin')}${delimiter}${savedPath ?? ''}`;
});
afterAll(async () => {
  process.env.PATH = savedPath;
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  record = join(dir, `runs-${++recordCount}.jsonl`);
  fake.clearRequests();
});
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

interface Run {
  args: string[];
  execInfo: unknown;
}

async function runs(): Promise<Run[]> {
  const text = await readFile(record, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Run);
}

/** An exec section whose plugin records its runs in this test's file and gets `pluginEnv`. */
function exec(config: Partial<ExecPluginConfig>, pluginEnv: Record<string, string> = {}): ExecPluginConfig {
  return {
    apiVersion: V1,
    command: PLUGIN,
    ...config,
    env: [...(config.env ?? []), ...Object.entries({ ...pluginEnv, PLUGIN_RECORD: record }).map(([name, value]) => ({ name, value }))],
  };
}

async function proxyFor(config: ExecPluginConfig, cluster: Partial<ClusterConfig> = {}, options: Partial<ClusterProxyOptions> = {}) {
  const host = await startProxyHost({ clusters: [{ name: 'c', server: fake.url, ca: fake.ca, credentials: { exec: config }, ...cluster }], ...options });
  hosts.push(host);
  return host;
}

async function whoami(host: ProxyHost) {
  const res = await send(`${host.url}/clusters/c/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}',
  });
  const user = res.status === 201 || res.status === 200 ? (res.json() as { status?: { userInfo?: { username?: string } } }).status?.userInfo?.username : undefined;
  return { status: res.status, user };
}

const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

describe('provider-shaped plugins', () => {
  it('EKS: `aws eks get-token --cluster-name` on PATH, v1beta1, without cluster info', async () => {
    const args = ['eks', 'get-token', '--cluster-name', 'prod-eks', '--region', 'us-east-1'];
    const host = await proxyFor(
      exec({ apiVersion: V1BETA1, command: 'aws', args }, { PLUGIN_EXPECT_ARGS: JSON.stringify(args), PLUGIN_TOKENS: EKS_TOKEN, PLUGIN_EXPIRATION: inMinutes(14) }),
    );
    expect(await whoami(host)).toEqual({ status: 201, user: 'eks-user' });
    expect(fake.requests.at(-1)).toMatchObject({ authenticatedBy: 'token', headers: { authorization: `Bearer ${EKS_TOKEN}` } });
    expect(await runs()).toEqual([{ args, execInfo: { kind: 'ExecCredential', apiVersion: V1BETA1, spec: { interactive: false } } }]);
  });

  it('GKE: `gke-gcloud-auth-plugin` with provideClusterInfo gets the server and CA in KUBERNETES_EXEC_INFO', async () => {
    const caFile = join(dir, 'gke-ca.pem');
    await writeFile(caFile, fake.ca);
    const host = await proxyFor(
      exec(
        { apiVersion: V1BETA1, command: 'gke-gcloud-auth-plugin', provideClusterInfo: true, interactiveMode: 'IfAvailable' },
        { PLUGIN_EXPECT_SERVER: fake.url, PLUGIN_EXPECT_CA_FILE: caFile, PLUGIN_TOKENS: GKE_TOKEN, PLUGIN_EXPIRATION: inMinutes(60) },
      ),
      { tlsServerName: 'localhost' },
    );
    expect(await whoami(host)).toEqual({ status: 201, user: 'gke-user' });
    expect((await runs())[0]?.execInfo).toEqual({
      kind: 'ExecCredential',
      apiVersion: V1BETA1,
      spec: {
        interactive: false,
        cluster: { server: fake.url, 'tls-server-name': 'localhost', 'certificate-authority-data': Buffer.from(fake.ca).toString('base64') },
      },
    });
  });

  it('AKS: `kubelogin get-token`, v1', async () => {
    const args = ['get-token', '--login', 'azurecli', '--server-id', '6dae42f8-4368-4678-94ff-3960e28e3630'];
    const host = await proxyFor(
      exec({ apiVersion: V1, command: 'kubelogin', args, interactiveMode: 'Never' }, { PLUGIN_EXPECT_ARGS: JSON.stringify(args), PLUGIN_TOKENS: AKS_TOKEN }),
    );
    expect(await whoami(host)).toEqual({ status: 201, user: 'aks-user' });
    expect(await runs()).toEqual([{ args, execInfo: { kind: 'ExecCredential', apiVersion: V1, spec: { interactive: false } } }]);
  });

  it("gives the plugin the proxy's environment, with `env` on top", async () => {
    process.env.PLUGIN_TOKENS = 'token-b';
    try {
      const inherited = await proxyFor(exec({}));
      expect((await whoami(inherited)).user).toBe('robot-b');
      const overridden = await proxyFor(exec({}, { PLUGIN_TOKENS: EKS_TOKEN }));
      expect((await whoami(overridden)).user).toBe('eks-user');
    } finally {
      delete process.env.PLUGIN_TOKENS;
    }
  });
});

describe('caching', () => {
  it('runs the plugin once for many requests while the credential is valid', async () => {
    const host = await proxyFor(exec({}, { PLUGIN_TOKENS: EKS_TOKEN }));
    for (let i = 0; i < 3; i++) expect((await whoami(host)).user).toBe('eks-user');
    expect(await runs()).toHaveLength(1);
  });

  it('runs the plugin once for 200 concurrent requests, HTTP and upgrades alike', async () => {
    const host = await proxyFor(exec({}, { PLUGIN_TOKENS: EKS_TOKEN, PLUGIN_SLEEP_MS: '100', PLUGIN_EXPIRATION: inMinutes(60) }));
    const http = Array.from({ length: 190 }, () => send(`${host.url}/clusters/c/api/v1/namespaces/default/pods`));
    const ws = Array.from({ length: 10 }, () =>
      runChannelSession(`${host.url.replace('http', 'ws')}/clusters/c/api/v1/namespaces/default/pods/web-exec-1/exec?${execQuery(['whoami'])}`, ['v4.channel.k8s.io']),
    );
    const [responses, sessions] = await Promise.all([Promise.all(http), Promise.all(ws)]);
    expect(await runs()).toHaveLength(1);
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
    expect(sessions.every((s) => s.ok && s.session.output.get(1) === 'eks-user\n')).toBe(true);
    expect(fake.requests).toHaveLength(200);
    expect(fake.requests.every((r) => r.user === 'eks-user')).toBe(true);
  });

  it('runs the plugin again once the credential nears its expirationTimestamp', async () => {
    let now = Date.now();
    const host = await proxyFor(
      exec({}, { PLUGIN_TOKENS: `${EKS_TOKEN},token-b`, PLUGIN_EXPIRATION: new Date(now + 600_000).toISOString() }),
      {},
      { now: () => now },
    );
    expect((await whoami(host)).user).toBe('eks-user');
    now += 500_000;
    expect((await whoami(host)).user).toBe('eks-user');
    expect(await runs()).toHaveLength(1);
    now += 75_000; // 25 s before expiry
    expect((await whoami(host)).user).toBe('robot-b');
    expect(await runs()).toHaveLength(2);
  });

  it('does not keep a credential that has already expired', async () => {
    const host = await proxyFor(exec({}, { PLUGIN_TOKENS: EKS_TOKEN, PLUGIN_EXPIRATION: '2020-01-01T00:00:00Z' }));
    expect((await whoami(host)).user).toBe('eks-user');
    expect((await whoami(host)).user).toBe('eks-user');
    expect(await runs()).toHaveLength(2);
  });

  it('runs the plugin again after the cluster answers 401, then keeps the new token', async () => {
    const host = await proxyFor(exec({}, { PLUGIN_TOKENS: 'revoked-token,token-b' }));
    expect((await whoami(host)).status).toBe(401);
    expect((await whoami(host)).user).toBe('robot-b');
    expect((await whoami(host)).user).toBe('robot-b');
    expect(await runs()).toHaveLength(2);
  });

  it('does not cache a failed run: the next request runs the plugin again', async () => {
    const host = await proxyFor(exec({}, { PLUGIN_TOKENS: EKS_TOKEN, PLUGIN_FAIL_RUNS: '1' }));
    expect((await send(`${host.url}/clusters/c/version`)).status).toBe(503);
    expect((await whoami(host)).user).toBe('eks-user');
    expect(await runs()).toHaveLength(2);
  });
});

describe('client certificates', () => {
  it('presents the certificate the plugin printed, and authenticates as its user', async () => {
    const { cert, key } = fake.issueClientCertificate('exec-cert-user', ['robots']);
    await writeFile(join(dir, 'client.crt'), cert);
    await writeFile(join(dir, 'client.key'), key);
    const host = await proxyFor(exec({}, { PLUGIN_CERT_FILE: join(dir, 'client.crt'), PLUGIN_KEY_FILE: join(dir, 'client.key') }));
    expect(await whoami(host)).toEqual({ status: 201, user: 'exec-cert-user' });
    expect((await whoami(host)).user).toBe('exec-cert-user');
    expect(fake.requests.at(-1)).toMatchObject({ authenticatedBy: 'certificate' });
    expect(fake.requests.at(-1)?.headers.authorization).toBeUndefined();
    expect(await runs()).toHaveLength(1);
  });

  it('answers 503 naming the cause when OpenSSL refuses the printed certificate, without reaching the cluster', async () => {
    const pem = (label: string) => `-----BEGIN ${label}-----\nMIIB\n-----END ${label}-----\n`;
    const stdout = JSON.stringify({ apiVersion: V1, kind: 'ExecCredential', status: { clientCertificateData: pem('CERTIFICATE'), clientKeyData: pem('PRIVATE KEY') } });
    const host = await proxyFor(exec({}, { PLUGIN_STDOUT: stdout }), {}, { logger: { warn: () => {}, error: () => {} } });
    const res = await send(`${host.url}/clusters/c/api/v1/namespaces/default/pods`);
    expect(res.status).toBe(503);
    expect((res.json() as { message: string }).message).toMatch(/^cluster "c": its credentials gave a client certificate or key that cannot be used \(.+\); check what they produce$/);
    expect(res.body).not.toContain('MIIB');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('failures answer 503 without reaching the cluster or revealing a token', () => {
  const SECRET = EKS_TOKEN;
  const credential = (status: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ apiVersion: V1, kind: 'ExecCredential', status, ...extra });
  const pem = (label: string) => `-----BEGIN ${label}-----\nMIIB\n-----END ${label}-----\n`;
  const cases: { name: string; config?: Partial<ExecPluginConfig>; env?: Record<string, string>; message: string }[] = [
    {
      name: 'command not found on PATH, with the install hint',
      config: { command: 'kcp-no-such-plugin', installHint: 'Install it with: brew install kcp-no-such-plugin' },
      message: 'the exec plugin "kcp-no-such-plugin" was not found (ENOENT); Install it with: brew install kcp-no-such-plugin',
    },
    { name: 'command path that does not exist', config: { command: '/nonexistent/kcp/plugin' }, message: 'the exec plugin "/nonexistent/kcp/plugin" was not found (ENOENT)' },
    {
      name: 'exit code with a stderr excerpt, the token in it redacted',
      env: { PLUGIN_EXIT: '1', PLUGIN_STDERR: `error: refreshing\n  token ${SECRET} was rejected: ExpiredToken\n` },
      message: 'the exec plugin "<plugin>" failed with exit code 1: error: refreshing token k8s-aws-v1.[redacted] was rejected: ExpiredToken',
    },
    {
      name: 'exit code with a long stderr, cut at 300 characters',
      env: { PLUGIN_EXIT: '4', PLUGIN_STDERR: 'the sky is falling '.repeat(40) },
      message: `the exec plugin "<plugin>" failed with exit code 4: ${'the sky is falling '.repeat(40).slice(0, 300)}…`,
    },
    { name: 'exit code without stderr', env: { PLUGIN_EXIT: '1', PLUGIN_STDOUT: credential({ token: SECRET }) }, message: 'the exec plugin "<plugin>" failed with exit code 1 and printed nothing on stderr' },
    { name: 'timeout', config: { timeoutMs: 300 }, env: { PLUGIN_SLEEP_MS: '10000', PLUGIN_TOKENS: SECRET }, message: 'the exec plugin "<plugin>" timed out after 300 ms' },
    { name: 'empty output', env: { PLUGIN_STDOUT: '\n' }, message: 'the exec plugin "<plugin>" printed an invalid ExecCredential: the output is empty; expected an ExecCredential JSON object' },
    { name: 'garbage', env: { PLUGIN_STDOUT: `token: ${SECRET}\n` }, message: 'the exec plugin "<plugin>" printed an invalid ExecCredential: the output is not JSON; expected an ExecCredential JSON object' },
    { name: 'a JSON array', env: { PLUGIN_STDOUT: JSON.stringify([SECRET]) }, message: 'the exec plugin "<plugin>" printed an invalid ExecCredential: the output is a JSON array, not an ExecCredential object' },
    {
      name: 'wrong apiVersion',
      env: { PLUGIN_API_VERSION: V1BETA1, PLUGIN_TOKENS: SECRET },
      message: `the exec plugin "<plugin>" printed an invalid ExecCredential: apiVersion is "${V1BETA1}"; the plugin is configured for "${V1}"`,
    },
    {
      name: 'missing apiVersion',
      env: { PLUGIN_STDOUT: JSON.stringify({ kind: 'ExecCredential', status: { token: SECRET } }) },
      message: `the exec plugin "<plugin>" printed an invalid ExecCredential: apiVersion is missing; the plugin is configured for "${V1}"`,
    },
    {
      name: 'a token where apiVersion belongs is not quoted',
      env: { PLUGIN_STDOUT: JSON.stringify({ apiVersion: SECRET, kind: 'ExecCredential' }) },
      message: `the exec plugin "<plugin>" printed an invalid ExecCredential: apiVersion is a string that is not shown; the plugin is configured for "${V1}"`,
    },
    { name: 'wrong kind', env: { PLUGIN_STDOUT: credential({ token: SECRET }, { kind: 'Secret' }) }, message: 'the exec plugin "<plugin>" printed an invalid ExecCredential: kind is "Secret"; expected "ExecCredential"' },
    { name: 'missing status', env: { PLUGIN_STDOUT: credential(undefined) }, message: 'the exec plugin "<plugin>" printed an invalid ExecCredential: status is missing' },
    {
      name: 'missing token',
      env: { PLUGIN_STDOUT: credential({ expirationTimestamp: inMinutes(10) }) },
      message: 'the exec plugin "<plugin>" printed an invalid ExecCredential: status has neither a token nor clientCertificateData and clientKeyData',
    },
    { name: 'empty token', env: { PLUGIN_STDOUT: credential({ token: '' }) }, message: 'the exec plugin "<plugin>" printed an invalid ExecCredential: status has neither a token nor clientCertificateData and clientKeyData' },
    { name: 'token not a string', env: { PLUGIN_STDOUT: credential({ token: 42 }) }, message: 'the exec plugin "<plugin>" printed an invalid ExecCredential: status.token must be a string; got number' },
    {
      name: 'token with a line break',
      env: { PLUGIN_STDOUT: credential({ token: `${SECRET}\nX-Injected: 1` }) },
      message: 'the exec plugin "<plugin>" printed an invalid ExecCredential: status.token contains whitespace or control characters',
    },
    {
      name: 'certificate without key',
      env: { PLUGIN_STDOUT: credential({ clientCertificateData: pem('CERTIFICATE') }) },
      message: 'the exec plugin "<plugin>" printed an invalid ExecCredential: status.clientCertificateData is set without status.clientKeyData',
    },
    {
      name: 'key without certificate',
      env: { PLUGIN_STDOUT: credential({ clientKeyData: pem('PRIVATE KEY') }) },
      message: 'the exec plugin "<plugin>" printed an invalid ExecCredential: status.clientKeyData is set without status.clientCertificateData',
    },
    {
      name: 'certificate that is not PEM',
      env: { PLUGIN_STDOUT: credential({ clientCertificateData: SECRET, clientKeyData: pem('PRIVATE KEY') }) },
      message: 'the exec plugin "<plugin>" printed an invalid ExecCredential: status.clientCertificateData is not PEM',
    },
    {
      name: 'bad expirationTimestamp',
      env: { PLUGIN_TOKENS: SECRET, PLUGIN_EXPIRATION: 'in 15 minutes' },
      message: 'the exec plugin "<plugin>" printed an invalid ExecCredential: status.expirationTimestamp is not an RFC 3339 time',
    },
    {
      name: 'expirationTimestamp without a time zone',
      env: { PLUGIN_TOKENS: SECRET, PLUGIN_EXPIRATION: '2030-01-01T00:00:00' },
      message: 'the exec plugin "<plugin>" printed an invalid ExecCredential: status.expirationTimestamp is not an RFC 3339 time',
    },
  ];

  it.each(cases)('$name', async ({ config, env, message }) => {
    const logged: unknown[] = [];
    const log = (...args: unknown[]) => void logged.push(...args);
    const host = await proxyFor(exec(config ?? {}, env), {}, { logger: { warn: log, error: log } });
    const res = await send(`${host.url}/clusters/c/api/v1/namespaces/default/pods`);
    expect(res.status).toBe(503);
    expect(res.json()).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'ServiceUnavailable', code: 503 });
    expect((res.json() as { message: string }).message).toBe(`cluster "c": ${message.replace('<plugin>', PLUGIN)}`);
    expect(res.body).not.toContain(SECRET);
    expect(res.body).not.toContain(SECRET.slice(11, 40));
    expect(logged.map((l) => (l instanceof Error ? `${l.message} ${String(l.cause)}` : String(l))).join('\n')).not.toContain(SECRET);
    expect(fake.requests).toHaveLength(0);
  });

  it('answers a WebSocket upgrade with the same 503', async () => {
    const host = await proxyFor(exec({}, { PLUGIN_EXIT: '1', PLUGIN_STDERR: 'no credentials' }));
    const upgrade = await runChannelSession(`${host.url.replace('http', 'ws')}/clusters/c/api/v1/namespaces/default/pods/web-exec-1/exec?${execQuery(['ls'])}`, ['v4.channel.k8s.io']);
    expect(upgrade).toMatchObject({ ok: false, status: 503 });
    expect(upgrade.ok === false && (JSON.parse(upgrade.body) as { message: string }).message).toBe(`cluster "c": the exec plugin "${PLUGIN}" failed with exit code 1: no credentials`);
    expect(fake.requests).toHaveLength(0);
  });

  it('answers 503 for a file that is not executable', async () => {
    const path = join(dir, 'not-executable');
    await writeFile(path, '#!/bin/sh\necho {}\n');
    await chmod(path, 0o644);
    const host = await proxyFor(exec({ command: path }));
    const res = await send(`${host.url}/clusters/c/version`);
    expect(res.status).toBe(503);
    expect((res.json() as { message: string }).message).toBe(`cluster "c": the exec plugin "${path}" could not be started: spawn ${path} EACCES (EACCES)`);
  });

  it('kills a plugin that times out together with the processes it started', async () => {
    const pids = join(dir, 'hang.pids');
    const host = await proxyFor({
      apiVersion: V1,
      command: join(FIXTURES, 'hang-with-child.sh'),
      env: [{ name: 'PLUGIN_PIDS', value: pids }],
      timeoutMs: 300,
    });
    const started = Date.now();
    const res = await send(`${host.url}/clusters/c/version`);
    expect(res.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(2_000);
    const ids = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    expect(ids).toHaveLength(2);
    await expect.poll(() => ids.filter(isRunning), { timeout: 2_000 }).toEqual([]);
  });
});

/** Whether a process still runs; one that has exited but not been reaped yet (a zombie) does not. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}
