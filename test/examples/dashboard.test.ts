import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));

let dashboard: ChildProcess;
let base: string;
let output = '';

/** Starts `npm start`'s script on free ports and waits for the URL it prints. */
beforeAll(async () => {
  dashboard = spawn(process.execPath, ['--conditions=kcp-source', 'examples/dashboard/server.ts'], {
    env: { ...process.env, PORT: '0', TLS_PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  base = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: dashboard.stdout! });
    lines.on('line', (line) => {
      output += `${line}\n`;
      const match = /example dashboard: (http:\/\/\S+?)\/ /.exec(line);
      if (match) resolve(match[1]!);
    });
    dashboard.once('exit', (code) => reject(new Error(`the dashboard exited with ${code}:\n${output}`)));
  });
});
afterAll(async () => {
  const exited = new Promise((resolve) => dashboard.once('exit', resolve));
  dashboard.kill('SIGTERM');
  await exited;
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
