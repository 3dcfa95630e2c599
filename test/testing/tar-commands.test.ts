import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Exec, type V1Status } from '@kubernetes/client-node';
import { PassThrough } from 'node:stream';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTEXTS, startKubectlWorld, type KubectlWorld } from '../helpers/kubectl.ts';
import { Collector } from './kit-helpers.ts';

let world: KubectlWorld;
const original = randomBytes(5 * 1024 * 1024);

beforeAll(async () => {
  world = await startKubectlWorld({ name: 'cp', pods: [{ name: 'files', files: { '/etc/motd': 'welcome\n' } }] });
  await writeFile(join(world.dir, 'random.bin'), original);
});
afterAll(() => world?.close());

describe('kubectl cp a 5 MiB file to a pod and back', () => {
  const runs = [...CONTEXTS.map(({ context }) => ({ context, transport: 'WebSocket' as const })), { context: 'user' as const, transport: 'SPDY' as const }];
  for (const { context, transport } of runs) {
    it(`${context}, ${transport}`, async () => {
      const env: Record<string, string> = transport === 'SPDY' ? { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } : {};
      const remote = `/tmp/${context}-${transport}.bin`;
      const up = await world.run(context, ['cp', 'random.bin', `files:${remote}`], { env });
      expect(up).toMatchObject({ code: 0, stderr: '' });
      expect(world.fake.podFiles('default', 'files').readFile(remote).equals(original)).toBe(true);

      const local = `back-${context}-${transport}.bin`;
      const down = await world.run(context, ['cp', `files:${remote}`, local], { env });
      expect(down.code).toBe(0);
      expect(down.stdout).toContain("tar: Removing leading `/' from member names");
      expect((await readFile(join(world.dir, local))).equals(original)).toBe(true);
    });
  }

  it('copies a directory tree into an existing directory, and a file the test put there out', async () => {
    const files = world.fake.podFiles('default', 'files');
    files.writeFile('/srv/site/index.html', '<h1>hi</h1>');
    files.writeFile('/srv/site/css/main.css', 'h1{}');
    expect(await world.run('user', ['cp', 'files:/srv/site', 'site'])).toMatchObject({ code: 0 });
    expect(await readFile(join(world.dir, 'site', 'css', 'main.css'), 'utf8')).toBe('h1{}');
    expect(await world.run('user', ['cp', 'site', 'files:/tmp'])).toMatchObject({ code: 0 });
    expect(files.list('/tmp/site')).toEqual(['css', 'index.html']);
    expect(files.readFile('/etc/motd').toString()).toBe('welcome\n');
  });
});

/** Runs a command with client-node's Exec straight at the fake, stdin given. */
async function execWithStdin(command: string[], stdin: Buffer): Promise<{ stdout: string; stderr: string; status: V1Status }> {
  const stdout = new Collector();
  const stderr = new Collector();
  const input = new PassThrough();
  const status = await new Promise<V1Status>((resolve, reject) => {
    new Exec(world.kubeConfig('direct')).exec('default', 'files', 'app', command, stdout, stderr, input, false, resolve).catch(reject);
    input.end(stdin);
  });
  return { stdout: stdout.text, stderr: stderr.text, status };
}

async function archive(entries: { name: string; data?: string; type?: 'file' | 'directory' | 'symlink' | 'fifo'; linkname?: string }[]): Promise<Buffer> {
  const packer = pack();
  for (const { name, data, type, linkname } of entries) packer.entry({ name, type: type ?? 'file', ...(linkname === undefined ? {} : { linkname }) }, data ?? '');
  packer.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of packer) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('tar in the fake refuses bad archives and bad paths cleanly', () => {
  it('does not write outside the target directory', async () => {
    const { stderr, status } = await execWithStdin(['tar', 'xf', '-', '-C', '/tmp'], await archive([{ name: '../../etc/evil', data: 'x' }, { name: 'fine.txt', data: 'ok' }]));
    expect(stderr).toContain("tar: ../../etc/evil: Member name contains '..'");
    expect(status.details?.causes?.[0]?.message).toBe('2');
    expect(world.fake.podFiles('default', 'files').stat('/etc/evil')).toBeUndefined();
    expect(world.fake.podFiles('default', 'files').readFile('/tmp/fine.txt').toString()).toBe('ok');
  });

  it('exits 2 on bytes that are not an archive', async () => {
    const { stderr, status } = await execWithStdin(['tar', 'xf', '-'], Buffer.from('this is not a tar archive at all\n'.repeat(40)));
    expect(stderr).toMatch(/tar: This does not look like a tar archive/);
    expect(status.reason).toBe('NonZeroExitCode');
  });

  it('refuses a file larger than the pod has room for, without reading it into memory', async () => {
    const header = (await archive([{ name: 'huge.bin', data: 'x' }])).subarray(0, 512);
    // Rewrite the size field (octal, 12 bytes at offset 124) to 1 GiB and fix the checksum.
    header.write('10000000000\0', 124, 'latin1');
    header.fill(' ', 148, 156);
    const sum = header.reduce((total, byte) => total + byte, 0);
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const { stderr, status } = await execWithStdin(['tar', 'xf', '-', '-C', '/tmp'], Buffer.concat([header, Buffer.alloc(4096)]));
    expect(stderr).toContain('tar: huge.bin: Cannot write: No space left on device');
    expect(status.status).toBe('Failure');
    expect(world.fake.podFiles('default', 'files').stat('/tmp/huge.bin')).toBeUndefined();
  });

  it('answers usage errors and a missing -C directory like GNU tar', async () => {
    expect((await execWithStdin(['tar', 'xf', 'archive.tar'], Buffer.alloc(0))).stderr).toContain("only '-' (standard input or output)");
    expect((await execWithStdin(['tar', '-q'], Buffer.alloc(0))).stderr).toContain("tar: invalid option -- 'q'");
    expect((await execWithStdin(['tar', 'cf', '-'], Buffer.alloc(0))).stderr).toContain('Cowardly refusing to create an empty archive');
    const missing = await execWithStdin(['tar', 'cf', '-', '/nope'], Buffer.alloc(0));
    expect(missing.stderr).toBe("tar: Removing leading `/' from member names\ntar: /nope: Cannot stat: No such file or directory\ntar: Exiting with failure status due to previous errors\n");
    expect(missing.status.details?.causes?.[0]?.message).toBe('2');
    expect((await execWithStdin(['tar', 'xf', '-', '-C', '/missing'], await archive([{ name: 'a', data: 'a' }]))).stderr).toContain('tar: /missing: Cannot open: No such file or directory');
  });

  it('lists an archive with t, keeps symlinks as symlinks, and refuses special files', async () => {
    const entries = await archive([{ name: 'dir/', type: 'directory' }, { name: 'dir/link', type: 'symlink', linkname: '../target' }]);
    expect((await execWithStdin(['tar', 'tf', '-'], entries)).stdout).toBe('dir/\ndir/link\n');
    expect((await execWithStdin(['tar', 'xf', '-', '-C', '/tmp'], entries)).status.status).toBe('Success');
    expect(world.fake.podFiles('default', 'files').stat('/tmp/dir/link')).toMatchObject({ type: 'symlink', linkTarget: '../target' });
    const special = await execWithStdin(['tar', 'xf', '-', '-C', '/tmp'], await archive([{ name: 'fifo', type: 'fifo' }]));
    expect(special.stderr).toContain("tar: fifo: Cannot create fifo entries in the fake's pods");
  });
});
