import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster } from 'kube-cluster-proxy/testing';
import { alive, spawnDashboard, startDashboard, writeKubeconfig, type RunningDashboard } from '../helpers/dashboard.ts';

/** Waits (at most 10 s) for a process to be gone. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  return !alive(pid);
}

/** Everything a dashboard that should not start wrote, and its exit code. */
async function failedStart(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnDashboard([], env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('the example dashboard with a kubeconfig', () => {
  it('serves the kubeconfig contexts and lists them without credentials', async () => {
    await using fake = await startFakeCluster({ name: 'kc', tokens: { 'kc-token': 'kc-robot' } });
    const kubeconfig = await writeKubeconfig([{ name: 'from-file', server: fake.url, ca: fake.ca, token: 'kc-token' }]);
    const withFile = await startDashboard(['--kubeconfig', kubeconfig.file]);
    try {
      expect(withFile.output()).toContain(`Clusters: from kubeconfig ${kubeconfig.file}: from-file`);
      expect((await fetch(`${withFile.base}/clusters/from-file/api/v1/namespaces/default/pods`)).status).toBe(200);
      const listed = await (await fetch(`${withFile.base}/api/clusters`)).text();
      expect(JSON.parse(listed)).toEqual([{ name: 'from-file', authMode: 'cluster', needsUserToken: false, credentialKind: 'token', serverHost: new URL(fake.url).host }]);
      expect(listed).not.toContain('kc-token');
    } finally {
      await withFile.stop();
      await kubeconfig.remove();
    }
  });
});

describe('the example dashboard', () => {
  let dashboard: RunningDashboard;
  beforeAll(async () => {
    dashboard = await startDashboard();
  });
  afterAll(() => dashboard.stop());

  it('prints what to try: URLs, curl, kubectl and a WebSocket exec command', () => {
    const output = dashboard.output();
    expect(output).toMatch(/Clusters: simulated/);
    expect(output).toMatch(/curl http:\/\/127\.0\.0\.1:\d+\/clusters\/dev\//);
    expect(output).toMatch(/kubectl --certificate-authority \S+ --server https:\/\/127\.0\.0\.1:\d+\/clusters\/prod --token alice-token exec/);
    expect(output).toMatch(/new W\('ws:\/\/127\.0\.0\.1:\d+\/clusters\/prod\/api\/v1\/namespaces\/default\/pods\/web-prod-1\/exec/);
  });

  it('answers the printed curl commands', async () => {
    const dev = await fetch(`${dashboard.base}/clusters/dev/api/v1/namespaces/default/pods`);
    expect(dev.status).toBe(200);
    expect(((await dev.json()) as { items: unknown[] }).items).toHaveLength(3);
    expect((await fetch(`${dashboard.base}/clusters/prod/version`)).status).toBe(401);
    expect((await fetch(`${dashboard.base}/clusters/nope/version`)).status).toBe(404);
  });

  it('lists the simulated clusters with how to log in, and none of their credentials', async () => {
    const listed = await (await fetch(`${dashboard.base}/api/clusters`)).text();
    const clusters = JSON.parse(listed) as { name: string; authMode: string; needsUserToken: boolean; loginHint?: string }[];
    expect(clusters.map((c) => [c.name, c.authMode, c.needsUserToken])).toEqual([
      ['dev', 'cluster', false],
      ['prod', 'user', true],
    ]);
    expect(clusters[1]!.loginHint).toBe('This simulated cluster knows one user, alice, whose token is "alice-token".');
    expect(listed).not.toContain('dev-dashboard-token');
    expect(listed).not.toContain('BEGIN CERTIFICATE');
  });

  it('serves xterm.js from node_modules', async () => {
    for (const path of ['/vendor/xterm/lib/xterm.mjs', '/vendor/xterm/css/xterm.css', '/vendor/addon-fit/lib/addon-fit.mjs']) {
      const res = await fetch(`${dashboard.base}${path}`);
      expect(res.status, path).toBe(200);
      expect((await res.text()).length, path).toBeGreaterThan(100);
    }
  });

  it('answers a login without a token with a sentence, and a JSON body reaches no proxied request', async () => {
    const empty = await fetch(`${dashboard.base}/api/login/prod`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toEqual({ message: 'Enter a token before logging in.' });
    // The proxy is mounted before the only parser: a JSON POST through it reaches the cluster.
    const created = await fetch(`${dashboard.base}/clusters/dev/api/v1/namespaces/default/configmaps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-test' }, data: { a: 'b' } }),
    });
    expect(created.status).toBe(201);
  });
});

describe('the example dashboard process', () => {
  it('documents PORT, HOST and TLS_PORT in --help', async () => {
    const child = spawnDashboard(['--help']);
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0);
    for (const variable of ['PORT', 'HOST', 'TLS_PORT', '--kubeconfig']) expect(stdout).toContain(variable);
  });

  it.each([
    ['PORT', 'TLS_PORT'],
    ['TLS_PORT', 'PORT'],
  ])('says in one line that %s is busy, exits 1 and leaves no CA file', async (variable, other) => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const busy = String((blocker.address() as AddressInfo).port);
    try {
      const { code, stdout, stderr } = await failedStart({ [variable]: busy, [other]: '0' });
      expect(code).toBe(1);
      const lines = stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`port ${busy} on 127.0.0.1 is already in use; set ${variable} to a free port`);
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(stdout).not.toContain('example dashboard:');
    } finally {
      blocker.close();
    }
  });

  it('says in one line that PORT is not a number', async () => {
    const { code, stderr } = await failedStart({ PORT: 'eighty' });
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('PORT must be a port number from 0 to 65535; got "eighty".');
  });

  // npm start: Ctrl-C in a terminal sends SIGINT to the whole process group; `kill` and service
  // managers send SIGTERM to npm alone.
  it.each([
    ['node', 'SIGINT', false],
    ['node', 'SIGTERM', false],
    ['npm', 'SIGINT', true],
    ['npm', 'SIGTERM', false],
  ] as const)('started with %s, stops on %s (to its group: %s) and removes its temporary CA file', async (command, signal, group) => {
    const running = await startDashboard([], { command });
    expect(existsSync(running.caFile)).toBe(true);
    expect(alive(running.pid)).toBe(true);
    await running.stop(signal, { group });
    expect(await gone(running.pid)).toBe(true);
    expect(existsSync(running.caFile)).toBe(false);
  });
});
