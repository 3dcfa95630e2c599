import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TOKEN_FILE_REREAD_MS, createTokenFileReader } from '../../src/credentials/token-file.ts';

describe('createTokenFileReader', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kcp-token-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('reads, trims, and re-reads only after the interval', async () => {
    const file = join(dir, 'token');
    let now = 0;
    await writeFile(file, 'first\n');
    const reader = createTokenFileReader(file, () => now);
    expect(await reader.token()).toBe('first');
    await writeFile(file, 'second');
    now += TOKEN_FILE_REREAD_MS - 1;
    expect(await reader.token()).toBe('first');
    now += 1;
    expect(await reader.token()).toBe('second');
  });

  it('keeps the last good token when the file disappears or is emptied', async () => {
    const file = join(dir, 'token');
    let now = 0;
    await writeFile(file, 'good');
    const reader = createTokenFileReader(file, () => now);
    await reader.token();
    await rm(file);
    now += TOKEN_FILE_REREAD_MS;
    expect(await reader.token()).toBe('good');
    await writeFile(file, '  \n');
    expect(await reader.token()).toBe('good');
  });

  it('re-reads at once after stale()', async () => {
    const file = join(dir, 'token');
    await writeFile(file, 'a');
    const reader = createTokenFileReader(file, () => 0);
    await reader.token();
    await writeFile(file, 'b');
    reader.stale();
    expect(await reader.token()).toBe('b');
  });

  it('rejects when no read ever succeeded', async () => {
    const reader = createTokenFileReader(join(dir, 'missing'), () => 0);
    await expect(reader.token()).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
