import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { KubeConfig } from '@kubernetes/client-node';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createCertificateAuthority, startFakeCluster, type FakeCluster, type FakeClusterOptions } from 'kube-cluster-proxy/testing';
import { startProxyHost, type ProxyHost } from './servers.ts';

/**
 * Where kubectl talks to: the fake itself, the proxy's `'user'` cluster (alice's token forwarded),
 * the proxy's `'cluster'` cluster (the proxy's own token), and the `'user'` cluster behind a plain
 * HTTP host, over which kubectl sends no token.
 */
export type KubectlContext = 'direct' | 'user' | 'cluster' | 'plain-http';

/** The contexts every kubectl feature is tested in, with the user the fake should see. */
export const CONTEXTS: readonly { readonly context: KubectlContext; readonly user: string }[] = [
  { context: 'direct', user: 'admin' },
  { context: 'user', user: 'alice' },
  { context: 'cluster', user: 'dashboard' },
];

/**
 * kubectl on the PATH, or a loud failure: tests that drive kubectl must not pass by skipping where
 * it is missing (Debian's own kubernetes-client 1.20 is too old to use).
 */
export function requireKubectl(): string {
  const found = (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'kubectl')).find((path) => existsSync(path));
  if (!found) throw new Error("kubectl is not on the PATH: these tests need kubectl >= 1.27 (put one on the PATH; Debian's kubernetes-client 1.20 is too old)");
  const version = spawnSync(found, ['version', '--client', '-o', 'json'], { encoding: 'utf8', timeout: 10_000 });
  const minor = Number((JSON.parse(version.stdout || '{}') as { clientVersion?: { minor?: string } }).clientVersion?.minor?.replace(/\D/g, '') ?? 0);
  if (minor < 27) throw new Error(`kubectl at ${found} is too old (minor version ${minor}); these tests need kubectl >= 1.27`);
  return found;
}

/** Feeds `input` to a kubectl process and collects its output until it exits (killed after `timeoutMs`). */
export function completion(child: ChildProcessWithoutNullStreams, input = '', timeoutMs = 20_000): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

export interface KubectlResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A fake cluster, a TLS proxy host in front of it, and a kubeconfig with one context per {@link KubectlContext}. */
export interface KubectlWorld {
  readonly fake: FakeCluster;
  readonly proxy: ProxyHost;
  /** A scratch directory (also kubectl's HOME), removed by `close()`. */
  readonly dir: string;
  /** Environment for kubectl in `context`, with `extra` added. */
  env(context: KubectlContext, extra?: Record<string, string>): NodeJS.ProcessEnv;
  /** Runs kubectl to completion (20 s at most), stdin given or closed. */
  run(context: KubectlContext, args: string[], options?: { env?: Record<string, string>; input?: string }): Promise<KubectlResult>;
  /** A client-node KubeConfig for `context`, read from the same kubeconfig file kubectl uses. */
  kubeConfig(context: KubectlContext): KubeConfig;
  /** Starts a long-running kubectl (port-forward); the caller kills it. */
  start(context: KubectlContext, args: string[], env?: Record<string, string>): ChildProcessWithoutNullStreams;
  close(): Promise<void>;
}

export async function startKubectlWorld(options: FakeClusterOptions = {}): Promise<KubectlWorld> {
  requireKubectl();
  const fake = await startFakeCluster({
    ...options,
    tokens: { 'admin-token': { user: 'admin', groups: ['system:masters'] }, 'alice-token': 'alice', 'svc-token': 'dashboard', ...options.tokens },
  });
  const ca = createCertificateAuthority({ commonName: 'dashboard CA' });
  const clusters = [
    { name: 'user', server: fake.url, ca: fake.ca },
    { name: 'own', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } },
  ];
  // HTTPS: client-go sends bearer tokens only over TLS.
  const proxy = await startProxyHost({ clusters }, 'node-http', ca.issue({ commonName: 'dashboard', ipAddresses: ['127.0.0.1'], usage: 'server' }));
  const plain = await startProxyHost({ clusters }, 'node-http');
  const dir = await mkdtemp(join(tmpdir(), 'kcp-kubectl-'));
  const caData = (pem: string) => Buffer.from(pem).toString('base64');
  const cluster = (name: string, server: string, pem?: string) => ({ name, cluster: { server, ...(pem ? { 'certificate-authority-data': caData(pem) } : {}) } });
  const context = (name: string, clusterName: string, user: string) => ({ name, context: { cluster: clusterName, user, namespace: 'default' } });
  await writeFile(
    join(dir, 'config'),
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        cluster('direct', fake.url, fake.ca),
        cluster('user', `${proxy.url}/clusters/user`, ca.cert),
        cluster('own', `${proxy.url}/clusters/own`, ca.cert),
        cluster('plain-http', `${plain.url}/clusters/user`),
      ],
      users: [
        { name: 'admin', user: { token: 'admin-token' } },
        { name: 'alice', user: { token: 'alice-token' } },
        // The proxy replaces this token with the cluster's own in 'cluster' mode.
        { name: 'robot', user: { token: 'ignored-by-the-proxy' } },
      ],
      contexts: [context('direct', 'direct', 'admin'), context('user', 'user', 'alice'), context('cluster', 'own', 'robot'), context('plain-http', 'plain-http', 'alice')],
      'current-context': 'direct',
    }),
  );

  const env = (name: KubectlContext, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: dir,
    KUBECONFIG: join(dir, 'config'),
    ...extra,
  });
  const start = (name: KubectlContext, args: string[], extra: Record<string, string> = {}) => spawn('kubectl', ['--context', name, ...args], { env: env(name, extra), cwd: dir });

  return {
    fake,
    proxy,
    dir,
    env,
    start,
    kubeConfig: (name) => {
      const kc = new KubeConfig();
      kc.loadFromFile(join(dir, 'config'));
      kc.setCurrentContext(name);
      return kc;
    },
    run: (name, args, { env: extra, input } = {}) => completion(start(name, args, extra), input),
    close: async () => {
      await plain.close();
      await proxy.close();
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
