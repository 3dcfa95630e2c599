// Runs examples/host-tests/ the way a host project would: packs the package, installs the tarball
// with the runners into a new project in a temporary folder and runs each runner's tests there,
// against the INSTALLED package, not this source tree. Also a plain `.cjs` require() and, where the
// machine has an older Node, the error it gets. Ends with `N passed, N failed`; exits 1 on a failure.
// Usage: npm run test:host (Node >= 24.9: Jest's require(esm) needs it).
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Each step is bounded: a runner kept alive by an open handle fails instead of hanging CI. */
const STEP_TIMEOUT_MS = 180_000;
const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` };

interface Outcome {
  readonly code: number | null;
  readonly output: string;
}

function run(command: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'], timeout: STEP_TIMEOUT_MS });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => resolve({ code: null, output: `${output}${error.message}\n` }));
    child.on('close', (code, signal) => resolve({ code, output: signal ? `${output}killed by ${signal} after ${STEP_TIMEOUT_MS / 1000} s\n` : output }));
  });
}

async function version(name: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

const results: { name: string; passed: number; failed: number }[] = [];

/** Records a step; a step that reported no passing test counts as one failure. */
function record(name: string, outcome: Outcome, passed: number, failed: number): void {
  const ok = outcome.code === 0 && failed === 0 && passed > 0;
  results.push({ name, passed, failed: ok ? failed : Math.max(failed, 1) });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${passed} passed, ${failed} failed`);
  if (!ok) console.log(outcome.output.replace(/^/gm, '     | '));
}

const started = Date.now();
const work = await mkdtemp(join(tmpdir(), 'kcp-host-tests-'));
try {
  const host = join(work, 'host');
  const pack = await run('npm', ['pack', '--json', '--pack-destination', work], ROOT);
  if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.output}`);
  const tarball = join(work, (JSON.parse(pack.output.slice(pack.output.indexOf('['))) as { filename: string }[])[0]?.filename ?? '');
  await cp(join(ROOT, 'examples/host-tests'), host, { recursive: true });
  await cp(join(ROOT, 'test/fixtures/packaging/require.cjs'), join(host, 'require-check.cjs'));
  const install = await run(
    'npm',
    ['install', '--save-dev', '--no-audit', '--no-fund', '--prefer-offline', tarball, `express@${await version('express')}`, `vitest@${await version('vitest')}`, 'jest@^30.5', '@jest/globals@^30.5'],
    host,
  );
  if (install.code !== 0) throw new Error(`npm install failed:\n${install.output}`);
  const resolved = await run(process.execPath, ['-p', "require.resolve('kube-cluster-proxy')"], host);
  console.log(`host project ${host}: kube-cluster-proxy resolves to ${resolved.output.trim()}`);
  if (!resolved.output.startsWith(join(host, 'node_modules'))) throw new Error('the host project does not use the installed package');

  const bin = (name: string) => join(host, 'node_modules', '.bin', name);
  const vitest = await run(bin('vitest'), ['run', '--dir', 'vitest', '--reporter=json', '--outputFile=vitest.json'], host);
  const vitestReport = await readJson<{ numPassedTests: number; numFailedTests: number }>(join(host, 'vitest.json'));
  record('vitest', vitest, vitestReport?.numPassedTests ?? 0, vitestReport?.numFailedTests ?? 0);

  const nodeTest = await run(process.execPath, ['--test', '--test-reporter=tap', 'node-test/*.test.js'], host);
  const count = (label: string) => Number(new RegExp(`^# ${label} (\\d+)$`, 'm').exec(nodeTest.output)?.[1] ?? 0);
  record('node:test', nodeTest, count('pass'), count('fail'));

  const vmModules = { NODE_OPTIONS: '--experimental-vm-modules --no-warnings=ExperimentalWarning' };
  for (const [name, config] of [['jest (ESM)', 'jest-esm/jest.config.js'], ['jest (CommonJS)', 'jest-cjs/jest.config.cjs']] as const) {
    const report = join(host, `${name.replace(/\W+/g, '-')}.json`);
    const jest = await run(bin('jest'), ['--config', config, '--json', `--outputFile=${report}`], host, vmModules);
    const jestReport = await readJson<{ numPassedTests: number; numFailedTests: number }>(report);
    record(name, jest, jestReport?.numPassedTests ?? 0, jestReport?.numFailedTests ?? 0);
  }

  const requireCheck = await run(process.execPath, ['require-check.cjs'], host);
  const answer = /^\{.*\}$/m.exec(requireCheck.output)?.[0];
  const requireOk = answer !== undefined && (JSON.parse(answer) as { status?: number }).status === 200;
  record('require() from a .cjs file', requireCheck, requireOk ? 1 : 0, requireOk ? 0 : 1);

  const oldNode = '/usr/bin/node';
  const oldVersion = await run(oldNode, ['-p', 'process.versions.node'], host);
  const [major = 0, minor = 0] = oldVersion.output.trim().split('.').map(Number);
  if (oldVersion.code === 0 && (major < 22 || (major === 22 && minor < 15))) {
    const old = await run(oldNode, ['--input-type=module', '-e', "import 'kube-cluster-proxy'"], host);
    const clear = old.code !== 0 && old.output.includes(`kube-cluster-proxy requires Node.js >= 22.15; this is Node.js ${oldVersion.output.trim()}`);
    record(`the error on Node ${oldVersion.output.trim()}`, { code: clear ? 0 : 1, output: old.output }, clear ? 1 : 0, clear ? 0 : 1);
  } else {
    console.log('skip the error on an older Node: no Node older than 22.15 at /usr/bin/node');
  }
} catch (error) {
  results.push({ name: 'setup', passed: 0, failed: 1 });
  console.log(`FAIL ${(error as Error).message}`);
} finally {
  await rm(work, { recursive: true, force: true });
}

const passed = results.reduce((sum, result) => sum + result.passed, 0);
const failed = results.reduce((sum, result) => sum + result.failed, 0);
console.log(`host tests took ${Math.round((Date.now() - started) / 1000)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
