import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Children run on the Node that runs the tests (24, or 22 in CI's second run), not the system's.
const ENV = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` };
const ENTRY_POINTS = ['dist/index', 'dist/testing/index', 'dist/redis/index', 'dist/metrics/index'];

/** A Node older than the package supports, where the machine has one (Debian's, here). */
async function oldNode(): Promise<string | undefined> {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    try {
      const { stdout } = await run(candidate, ['-p', 'process.versions.node']);
      const [major = 0, minor = 0] = stdout.trim().split('.').map(Number);
      if (major < 22 || (major === 22 && minor < 15)) return candidate;
    } catch {
      // Not there.
    }
  }
  return undefined;
}

let files: string[];
let packDir: string;

beforeAll(async () => {
  packDir = await mkdtemp(join(tmpdir(), 'kcp-pack-'));
  // Packing runs the prepack build, so dist/ is current for the require() checks below.
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: ROOT, env: ENV, maxBuffer: 16 * 1024 * 1024 });
  const [pack] = JSON.parse(stdout) as { files: { path: string }[] }[];
  files = (pack?.files ?? []).map((file) => file.path);
}, 120_000);
afterAll(() => rm(packDir, { recursive: true, force: true }));

describe('the packed tarball', () => {
  it('ships the build with its types and declaration maps, the sources they map to, LICENSE and README', () => {
    for (const entry of ENTRY_POINTS) expect(files).toEqual(expect.arrayContaining([`${entry}.js`, `${entry}.d.ts`, `${entry}.d.ts.map`]));
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'src/index.ts', 'src/testing/test-client.ts']));
  });

  it('ships no tests, fixtures, benchmarks, examples or CI scripts', () => {
    const unwanted = files.filter((path) => /^(test|bench|examples|scripts|\.ci)\//.test(path) || /\.test\.|fixtures/.test(path));
    expect(unwanted).toEqual([]);
  });

  it('has declaration maps whose sources are shipped, so that go-to-definition lands in the .ts', async () => {
    const maps = files.filter((path) => path.endsWith('.d.ts.map'));
    expect(maps.length).toBeGreaterThan(10);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources } = JSON.parse(await readFile(join(ROOT, map), 'utf8')) as { sources: string[] };
      for (const source of sources) {
        const shipped = join(dirname(map), source);
        if (!files.includes(shipped)) missing.push(`${map} -> ${shipped}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('has the Apache-2.0 license text with its copyright line', async () => {
    const license = await readFile(join(ROOT, 'LICENSE'), 'utf8');
    expect(license).toContain('Apache License\n                           Version 2.0, January 2004');
    expect(license).toContain('END OF TERMS AND CONDITIONS');
    expect(license).toContain('Copyright kube-cluster-proxy authors');
  });
});

describe('loading the build', () => {
  it('works with require() from a .cjs file', async () => {
    const { stdout } = await run(process.execPath, [join(ROOT, 'test/fixtures/packaging/require.cjs')], { cwd: ROOT, env: ENV });
    expect(JSON.parse(stdout)).toEqual({ mountPath: '/clusters', redisTokenStore: 'function', status: 200, major: '1' });
  });

  it('fails on an older Node with one error naming the version required', async (context) => {
    const node = await oldNode();
    if (!node) return context.skip('no Node older than 22.15 on this machine');
    // require() of an ES module came to Node 20 in 20.19; an older one refuses it with its own error.
    const { stdout: requiresEsm } = await run(node, ['-p', 'process.features.require_module === true']);
    for (const entry of ENTRY_POINTS) {
      const loads = [`import('./${entry}.js')`, ...(requiresEsm.trim() === 'true' ? [`require('./${entry}.js')`] : [])];
      for (const load of loads) {
        const failure = await run(node, ['-e', `Promise.resolve().then(() => ${load}).catch((e) => { console.error(e.message); process.exit(3); })`], { cwd: ROOT }).then(
          () => ({ code: 0, stderr: '' }),
          (error: { code: number; stderr: string }) => error,
        );
        expect(failure.code, load).toBe(3);
        expect(failure.stderr).toMatch(/^kube-cluster-proxy requires Node\.js >= 22\.15; this is Node\.js \d+\.\d+\.\d+\. Upgrade Node/);
      }
    }
  });
});
