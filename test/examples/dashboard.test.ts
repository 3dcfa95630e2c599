import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster } from 'kube-cluster-proxy/testing';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));

/** Starts `npm start`'s script on free ports and waits for the URL it prints. */
async function startDashboard(args: string[] = []): Promise<{ base: string; output: () => string; stop: () => Promise<void> }> {
  const { KUBECONFIG: _ignored, ...env } = process.env;
  const child = spawn(process.execPath, ['--conditions=kcp-source', 'examples/dashboard/server.ts', ...args], {
    env: { ...env, PORT: '0', TLS_PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const base = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      output += `${line}\n`;
      const match = /example dashboard: (http:\/\/\S+?)\/ /.exec(line);
      if (match) setTimeout(() => resolve(match[1]!), 50);
    });
    child.once('exit', (code) => reject(new Error(`the dashboard exited with ${code}:\n${output}`)));
  });
  return {
    base,
    output: () => output,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

let dashboard: Awaited<ReturnType<typeof startDashboard>>;
let base: string;
let output = '';
beforeAll(async () => {
  dashboard = await startDashboard();
  base = dashboard.base;
  output = dashboard.output();
});
afterAll(() => dashboard.stop());

describe('the example dashboard with a kubeconfig', () => {
  it('serves the kubeconfig contexts and says so', async () => {
    const fake = await startFakeCluster({ name: 'kc', tokens: { 'kc-token': 'kc-robot' } });
    const dir = await mkdtemp(join(tmpdir(), 'kcp-dash-'));
    const file = join(dir, 'config');
    await writeFile(
      file,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: fake.url, 'certificate-authority-data': Buffer.from(fake.ca).toString('base64') } }],
        users: [{ name: 'u', user: { token: 'kc-token' } }],
        contexts: [{ name: 'from-file', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'from-file',
      }),
    );
    const withFile = await startDashboard(['--kubeconfig', file]);
    try {
      expect(withFile.output()).toContain(`Clusters: from kubeconfig ${file}: from-file`);
      const res = await fetch(`${withFile.base}/clusters/from-file/api/v1/namespaces/default/pods`);
      expect(res.status).toBe(200);
      expect(await (await fetch(`${withFile.base}/api/clusters`)).json()).toEqual([{ name: 'from-file', authMode: 'cluster', needsUserToken: false, namespace: 'default' }]);
    } finally {
      await withFile.stop();
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the example dashboard', () => {
  it('prints what to try: URLs, curl, kubectl and a WebSocket exec command', () => {
    expect(output).toMatch(/Clusters: simulated/);
    expect(output).toMatch(/curl http:\/\/127\.0\.0\.1:\d+\/clusters\/dev\//);
    expect(output).toMatch(/kubectl --certificate-authority \S+ --server https:\/\/127\.0\.0\.1:\d+\/clusters\/prod --token alice-token exec/);
    expect(output).toMatch(/new W\('ws:\/\/127\.0\.0\.1:\d+\/clusters\/prod\/api\/v1\/namespaces\/default\/pods\/web-prod-1\/exec/);
  });

  it('answers the printed curl commands', async () => {
    const dev = await fetch(`${base}/clusters/dev/api/v1/namespaces/default/pods`);
    expect(dev.status).toBe(200);
    expect(((await dev.json()) as { items: unknown[] }).items).toHaveLength(3);
    expect((await fetch(`${base}/clusters/prod/version`)).status).toBe(401);
    expect((await fetch(`${base}/clusters/nope/version`)).status).toBe(404);
  });

  describe.skipIf(!CHROMIUM)('in headless Chromium (needs /usr/bin/chromium)', () => {
    let browser: Browser;
    let page: Page;
    beforeAll(async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      page = await browser.newPage();
    });
    afterAll(() => browser?.close());

    it('lists pods live, follows logs and runs exec over a WebSocket on the cluster-credentials cluster', async () => {
      await page.goto(`${base}/`);
      await expect.poll(() => page.locator('#pods tbody tr').count(), { timeout: 10_000 }).toBe(3);
      await page.locator('#pods tbody tr', { hasText: 'web-dev-1' }).click();
      await expect.poll(() => page.locator('#logs').textContent()).toContain('web-dev-1 starting');
      await page.locator('#command').fill('whoami');
      await page.locator('#exec-form button').click();
      await expect.poll(() => page.locator('#exec').textContent()).toContain('system:serviceaccount:kube-system:dashboard');
      await expect.poll(() => page.locator('#exec').textContent()).toContain('[exit 0]');
    });

    it("asks for the user's token on the user cluster, then works through the HttpOnly cookie", async () => {
      await page.locator('#cluster').selectOption('prod');
      await expect.poll(() => page.locator('#status').textContent()).toContain('401');
      await page.locator('#token').fill('alice-token');
      await page.locator('#login').click();
      await expect.poll(() => page.locator('#pods tbody tr').count(), { timeout: 10_000 }).toBe(3);
      const cookies = await page.context().cookies();
      expect(cookies.find((c) => c.name === 'cluster-token')).toMatchObject({ path: '/clusters/prod', httpOnly: true, sameSite: 'Strict' });
      // HttpOnly: page scripts cannot read the token.
      expect(await page.evaluate('document.cookie')).not.toContain('alice-token');
      await page.locator('#pods tbody tr', { hasText: 'web-prod-2' }).click();
      await page.locator('#command').fill('whoami');
      await page.locator('#exec-form button').click();
      await expect.poll(() => page.locator('#exec').textContent()).toContain('alice');
      await page.locator('#logout').click();
      await expect.poll(() => page.locator('#status').textContent()).toContain('401');
    });
  });
});
