import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { startDashboard, writeKubeconfig, type RunningDashboard } from '../helpers/dashboard.ts';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
/** Where each state of the page is photographed, for a person to review (gitignored). */
const SHOTS = join('test-results', 'dashboard');

/** A port nothing listens on: bound, read, released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.skipIf(!CHROMIUM)('the example dashboard in headless Chromium (needs /usr/bin/chromium)', () => {
  let dev: FakeCluster;
  let prod: FakeCluster;
  let kubeconfig: Awaited<ReturnType<typeof writeKubeconfig>>;
  let dashboard: RunningDashboard;
  let browser: Browser;
  let page: Page;
  const text = (selector: string) => page.locator(selector).textContent().then((t) => (t ?? '').replace(/\u00a0/g, ' '));
  const rows = () => page.locator('#pods tbody tr[data-pod]').allTextContents();
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dev = await startFakeCluster({ name: 'dev', tokens: { 'dev-token': 'system:serviceaccount:kube-system:dashboard' } });
    prod = await startFakeCluster({ name: 'prod', tokens: { 'alice-token': 'alice' } });
    kubeconfig = await writeKubeconfig([
      { name: 'dev', server: dev.url, ca: dev.ca, token: 'dev-token' },
      { name: 'prod', server: prod.url, ca: prod.ca },
      { name: 'gone', server: `https://127.0.0.1:${await closedPort()}`, ca: dev.ca, token: 'dev-token' },
    ]);
    dashboard = await startDashboard(['--kubeconfig', kubeconfig.file]);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await dashboard?.stop();
    await Promise.all([dev?.close(), prod?.close(), kubeconfig?.remove()]);
  });

  it('says in the cluster picker how each cluster authenticates', async () => {
    await page.goto(`${dashboard.base}/`);
    const options = await page.locator('#cluster option').allTextContents();
    expect(options).toEqual(['dev: no login needed: the dashboard uses its own token', 'prod: log in with your own token', 'gone: no login needed: the dashboard uses its own token']);
    await expect.poll(() => text('#auth-info')).toBe(`"dev" (API server ${new URL(dev.url).host}): no login needed: the dashboard uses its own token.`);
    expect(await page.locator('#login-form').isHidden()).toBe(true);
    expect(await text('footer')).toMatch(/PORT.*HOST.*TLS_PORT/s);
    await shot('01-cluster-picker');
  });

  it('lists pods live through the watch, and says why the logs pane is empty', async () => {
    await expect.poll(rows, { timeout: 10_000 }).toHaveLength(3);
    expect(await text('#logs-hint')).toBe('Select a pod in the table to follow its logs.');
    expect(await text('#terminal-hint')).toMatch(/^Select a pod in the table, then press Open terminal/);
    dev.addPod({ name: 'batch-dev-1', labels: { app: 'batch' } });
    await expect.poll(async () => (await rows()).some((row) => row.startsWith('batch-dev-1'))).toBe(true);
    dev.updatePod('default', 'batch-dev-1', { phase: 'Succeeded' });
    await expect.poll(async () => (await rows()).find((row) => row.startsWith('batch-dev-1'))).toContain('Succeeded');
    await shot('02-pods-live');
    dev.deletePod('default', 'batch-dev-1');
    await expect.poll(rows).toHaveLength(3);
  });

  it('follows the selected pod\'s log, and clears it when another pod is chosen', async () => {
    await page.locator('#pods tbody tr', { hasText: 'web-dev-1' }).click();
    await expect.poll(() => text('#logs')).toContain('[dev] web-dev-1 starting');
    dev.appendLog('default', 'web-dev-1', 'a line written after the page opened');
    await expect.poll(() => text('#logs')).toContain('a line written after the page opened');
    expect(await page.locator('#logs-hint').isHidden()).toBe(true);
    await shot('03-logs-following');
    await page.locator('#pods tbody tr', { hasText: 'worker-dev-1' }).click();
    await expect.poll(() => text('#logs')).toContain('[dev] worker started');
    dev.appendLog('default', 'web-dev-1', 'late line of the previous pod');
    dev.appendLog('default', 'worker-dev-1', 'fresh line of the selected pod');
    await expect.poll(() => text('#logs')).toContain('fresh line of the selected pod');
    expect(await text('#logs')).not.toContain('web-dev-1');
    expect(await text('#logs')).not.toContain('late line');
  });

  it('opens a real terminal: a TTY shell, typed keys, and resizes over channel 4', async () => {
    await page.locator('#connect').click();
    await expect.poll(() => text('.xterm-rows')).toContain('worker-dev-1:/#');
    await page.locator('#terminal').click();
    await page.keyboard.type('whoami');
    await page.keyboard.press('Enter');
    await expect.poll(() => text('.xterm-rows')).toContain('system:serviceaccount:kube-system:dashboard');
    const size = async () => (await text('#term-size')).split('×').map(Number) as [number, number];
    const [cols, rows] = await size();
    expect(cols).toBeGreaterThan(10);
    await page.keyboard.type('stty size');
    await page.keyboard.press('Enter');
    await expect.poll(() => text('.xterm-rows')).toContain(`${rows} ${cols}`);
    await shot('04-terminal');
    await page.setViewportSize({ width: 900, height: 900 });
    // The layout settles over a few frames: wait for a narrower size that holds across two reads.
    let narrower = cols;
    await expect
      .poll(async () => {
        const [before] = await size();
        await new Promise((resolve) => setTimeout(resolve, 200));
        narrower = (await size())[0];
        return before === narrower && narrower < cols;
      })
      .toBe(true);
    await page.keyboard.type('stty size');
    await page.keyboard.press('Enter');
    await expect.poll(() => text('.xterm-rows')).toContain(`${rows} ${narrower}`);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('offers the token form on a cluster that needs the user, in plain words', async () => {
    await page.locator('#cluster').selectOption('prod');
    await expect.poll(() => text('#message')).toBe('The cluster "prod" needs your own token. Enter it above and press Log in.');
    expect(await page.locator('#login-form').isVisible()).toBe(true);
    expect(await page.locator('#login-form').getAttribute('class')).toContain('wanted');
    expect(await text('#message')).not.toMatch(/header|subprotocol|cookie|401/i);
    // Nothing of dev stays on screen.
    expect(await text('#logs')).toBe('');
    expect(await text('#logs-hint')).toBe('Select a pod in the table to follow its logs.');
    expect(await text('.xterm-rows')).not.toContain('worker-dev-1');
    expect(await rows()).toEqual([]);
    await shot('05-needs-token');
  });

  it('says so when the cluster refuses the token', async () => {
    await page.locator('#token').fill('not-a-token');
    await page.locator('#login').click();
    await expect.poll(() => text('#message')).toBe('The cluster "prod" did not accept your token. Enter another one and press Log in.');
    await shot('06-token-refused');
  });

  it('logs in through the HttpOnly cookie, then lists, follows and opens a terminal as the user', async () => {
    await page.locator('#token').fill('alice-token');
    await page.locator('#login').click();
    await expect.poll(rows, { timeout: 10_000 }).toHaveLength(3);
    expect(await text('#message')).toBe('Showing namespace "default" of "prod" as the user of your token.');
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'cluster-token')).toMatchObject({ path: '/clusters/prod', httpOnly: true, sameSite: 'Strict' });
    expect(await page.evaluate('document.cookie')).not.toContain('alice-token');
    await page.locator('#pods tbody tr', { hasText: 'web-prod-2' }).click();
    await expect.poll(() => text('#logs')).toContain('[prod] web-prod-2 starting');
    await page.locator('#command').fill('sh');
    await page.locator('#connect').click();
    await expect.poll(() => text('.xterm-rows')).toContain('web-prod-2:/#');
    await page.locator('#terminal').click();
    await page.keyboard.type('whoami');
    await page.keyboard.press('Enter');
    await expect.poll(() => text('.xterm-rows')).toContain('alice');
    await shot('07-logged-in');
  });

  it('picks a namespace: the pods, logs and terminal follow it', async () => {
    prod.addPod({ name: 'api-team-1', namespace: 'team-a' });
    await page.locator('#cluster').selectOption('dev');
    await page.locator('#cluster').selectOption('prod');
    await expect.poll(() => page.locator('#namespace option').allTextContents()).toContain('team-a');
    await page.locator('#namespace').selectOption('team-a');
    await expect.poll(rows).toEqual([expect.stringMatching(/^api-team-1Running/)]);
    expect(await text('#logs')).toBe('');
    expect(await text('.xterm-rows')).not.toContain('alice');
    await shot('08-namespace');
  });

  it('logs out: the token form is offered again', async () => {
    await page.locator('#logout').click();
    await expect.poll(() => text('#message')).toBe('The cluster "prod" needs your own token. Enter it above and press Log in.');
  });

  it('says in a sentence that a cluster cannot be reached', async () => {
    await page.locator('#cluster').selectOption('gone');
    await expect.poll(() => text('#message'), { timeout: 15_000 }).toBe('The cluster "gone" cannot be reached right now. Check that it is running, then pick it again.');
    await shot('09-unreachable');
  });

  it('shows the simulated clusters\' demo token next to the token form', async () => {
    const simulated = await startDashboard();
    try {
      await page.goto(`${simulated.base}/`);
      await expect.poll(rows, { timeout: 10_000 }).toHaveLength(3);
      await page.locator('#cluster').selectOption('prod');
      await expect.poll(() => text('#message')).toBe('The cluster "prod" needs your own token. Enter it above and press Log in.');
      expect(await text('#login-hint')).toBe('This simulated cluster knows one user, alice, whose token is "alice-token".');
      await shot('11-simulated-login-hint');
    } finally {
      await simulated.stop();
    }
    await page.goto(`${dashboard.base}/`);
  });

  it('says that the dashboard itself stopped answering', async () => {
    await page.locator('#cluster').selectOption('dev');
    await expect.poll(rows, { timeout: 10_000 }).toHaveLength(3);
    await page.locator('#pods tbody tr', { hasText: 'web-dev-2' }).click();
    await expect.poll(() => text('#logs')).toContain('web-dev-2 starting');
    await dashboard.stop();
    await page.locator('#pods tbody tr', { hasText: 'web-dev-1' }).click();
    await expect.poll(() => text('#logs-hint'), { timeout: 10_000 }).toBe('No log to show. The dashboard server does not answer. Is it still running? Reload the page once it is.');
    expect(await text('#logs')).toBe('');
    await shot('10-dashboard-gone');
  });
});
