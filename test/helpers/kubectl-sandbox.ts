// kubectl against the fake's object store (writes, custom resources, can-i): a sandbox per target.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { completion, requireKubectl, type KubectlResult } from './kubectl.ts';
import { startProxyHost, type ProxyHost } from './servers.ts';

/** One kubeconfig context: a server with its CA and the token kubectl sends. */
export interface KubectlContext {
  readonly server: string;
  readonly ca: string;
  readonly token: string;
  readonly namespace?: string;
}

/** A running `kubectl ... -w`: its output lines so far, and a way to stop it. */
export interface KubectlStream {
  readonly lines: string[];
  readonly stderr: () => string;
  stop(): Promise<void>;
}

/**
 * A directory with a kubeconfig of named contexts and its own HOME (kubectl's discovery cache),
 * to run kubectl in with a bounded time.
 */
export class KubectlSandbox {
  readonly #kubectl: string;
  readonly dir: string;

  private constructor(kubectl: string, dir: string) {
    this.#kubectl = kubectl;
    this.dir = dir;
  }

  static async create(contexts: Record<string, KubectlContext>): Promise<KubectlSandbox> {
    const kubectl = requireKubectl();
    const dir = await mkdtemp(join(tmpdir(), 'kcp-kubectl-'));
    const names = Object.keys(contexts);
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: names.map((name) => ({ name, cluster: { server: contexts[name]?.server, 'certificate-authority-data': Buffer.from(contexts[name]?.ca ?? '').toString('base64') } })),
      users: names.map((name) => ({ name, user: { token: contexts[name]?.token } })),
      contexts: names.map((name) => ({ name, context: { cluster: name, user: name, namespace: contexts[name]?.namespace ?? 'default' } })),
      'current-context': names[0],
    };
    await writeFile(join(dir, 'config'), JSON.stringify(config));
    return new KubectlSandbox(kubectl, dir);
  }

  #spawn(context: string, args: readonly string[], env: Record<string, string>) {
    return spawn(this.#kubectl, ['--context', context, ...args], {
      env: { PATH: process.env.PATH, HOME: this.dir, KUBECONFIG: join(this.dir, 'config'), ...env },
      cwd: this.dir,
    });
  }

  /** Runs kubectl to completion (killed after `timeoutMs`, default 20 s). */
  run(context: string, args: readonly string[], options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
    return completion(this.#spawn(context, args, options.env ?? {}), options.input, options.timeoutMs);
  }

  /** Starts a long-running kubectl (such as `get -w`), killed by `stop()` or after `timeoutMs` (default 30 s). */
  stream(context: string, args: readonly string[], timeoutMs = 30_000): KubectlStream {
    const child = this.#spawn(context, args, {});
    const lines: string[] = [];
    let buffered = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const complete = buffered.split('\n');
      buffered = complete.pop() ?? '';
      lines.push(...complete);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    return {
      lines,
      stderr: () => stderr,
      stop: async () => {
        clearTimeout(timer);
        child.kill('SIGTERM');
        await closed;
      },
    };
  }

  /** Writes a file in the sandbox (manifests, editor scripts) and returns its path. */
  async file(name: string, content: string, executable = false): Promise<string> {
    const path = join(this.dir, name);
    await writeFile(path, content);
    if (executable) await chmod(path, 0o755);
    return path;
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** How kubectl reaches the fake: straight, through the proxy with its own token ('user' mode), or as the proxy's cluster identity ('cluster' mode). */
export const KUBECTL_TARGETS = ['direct', 'proxy-user', 'proxy-cluster'] as const;
export type KubectlTarget = (typeof KUBECTL_TARGETS)[number];

/** A fake, a TLS proxy in front of it and a kubectl sandbox with one context per target (namespace `ns-<target>`). */
export interface KubectlTargets {
  readonly fake: FakeCluster;
  readonly proxy: ProxyHost;
  readonly sandbox: KubectlSandbox;
  /** The user the fake sees for each target. */
  readonly identity: Readonly<Record<KubectlTarget, string>>;
  close(): Promise<void>;
}

/** Starts the fake (token `alice-token` for `alice`, `svc-token` for the proxy's `dashboard`), the proxy and the sandbox. */
export async function startKubectlTargets(name: string): Promise<KubectlTargets> {
  requireKubectl();
  const fake = await startFakeCluster({ name, pods: [], tokens: { 'alice-token': 'alice', 'svc-token': 'dashboard' } });
  const ca = createCertificateAuthority({ commonName: 'dashboard CA' });
  const proxy = await startProxyHost(
    {
      clusters: [
        { name: 'user', server: fake.url, ca: fake.ca },
        { name: 'own', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } },
      ],
    },
    'express5',
    // HTTPS: kubectl sends bearer tokens only over TLS.
    ca.issue({ commonName: 'dashboard', ipAddresses: ['127.0.0.1'], usage: 'server' }),
  );
  const sandbox = await KubectlSandbox.create({
    direct: { server: fake.url, ca: fake.ca, token: 'alice-token', namespace: 'ns-direct' },
    'proxy-user': { server: `${proxy.url}/clusters/user`, ca: ca.cert, token: 'alice-token', namespace: 'ns-proxy-user' },
    // 'cluster' mode replaces whatever token kubectl sends with the cluster's own.
    'proxy-cluster': { server: `${proxy.url}/clusters/own`, ca: ca.cert, token: 'ignored-by-the-proxy', namespace: 'ns-proxy-cluster' },
  });
  for (const target of KUBECTL_TARGETS) fake.addObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${target}` } });
  return {
    fake,
    proxy,
    sandbox,
    identity: { direct: 'alice', 'proxy-user': 'alice', 'proxy-cluster': 'dashboard' },
    close: async () => {
      await sandbox.remove();
      await proxy.close();
      await fake.close();
    },
  };
}
