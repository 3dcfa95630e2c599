import { extract, pack, type Header, type Pack } from 'tar-stream';
import { fail, write, type Command } from './command-io.ts';
import type { ExecContext } from './exec-context.ts';
import { FakeFileSystemError, MAX_POD_BYTES, pathNames } from './file-tree.ts';

/**
 * `tar`, as `kubectl cp` runs it: `tar cf - PATH...` (to the client) and
 * `tar [--no-same-permissions] [--no-same-owner] -xmf - [-C DIR]` (from the client), plus `t` to
 * list. Archives are read and written by tar-stream; the pod's files are `ctx.files`.
 */

interface TarOptions {
  mode: 'c' | 'x' | 't';
  directory: string;
  keepMtime: boolean;
  keepPermissions: boolean;
  verbose: boolean;
  operands: string[];
}

const USAGE = "Try 'tar --help' for more information.";

function parseOptions(args: readonly string[]): TarOptions | string {
  const options: TarOptions = { mode: 'c', directory: '/', keepMtime: true, keepPermissions: true, verbose: false, operands: [] };
  let mode: TarOptions['mode'] | undefined;
  const queue = [...args];
  // The first word may bundle options without a dash ("cf", "xmf"), as kubectl writes them.
  if (queue[0] !== undefined && !queue[0].startsWith('-')) queue[0] = `-${queue[0]}`;
  while (queue.length > 0) {
    const arg = queue.shift()!;
    if (arg === '--no-same-permissions') options.keepPermissions = false;
    else if (arg === '--no-same-owner' || arg === '--same-owner') continue;
    else if (arg.startsWith('--')) return `unrecognized option '${arg}'`;
    else if (arg.startsWith('-') && arg.length > 1) {
      for (const letter of arg.slice(1)) {
        if (letter === 'c' || letter === 'x' || letter === 't') {
          if (mode && mode !== letter) return "You may not specify more than one '-Acdtrux' option";
          mode = letter;
        } else if (letter === 'f') {
          const file = queue.shift();
          if (file !== '-') return `${file ?? ''}: only '-' (standard input or output) is available in the fake's pods`;
        } else if (letter === 'C') {
          const directory = queue.shift();
          if (directory === undefined) return "option requires an argument -- 'C'";
          options.directory = directory;
        } else if (letter === 'm') options.keepMtime = false;
        else if (letter === 'v') options.verbose = true;
        else if (letter === 'p' || letter === 'o') continue;
        else return `invalid option -- '${letter}'`;
      }
    } else options.operands.push(arg);
  }
  if (!mode) return "You must specify one of the '-Acdtrux', '--delete' or '--test-label' options";
  if (mode === 'c' && options.operands.length === 0) return 'Cowardly refusing to create an empty archive';
  if (mode === 'c' && options.directory !== '/') return "-C is only supported when extracting in the fake's pods";
  return { ...options, mode };
}

/** Adds `path` (and what is under it) to the archive under its name without the leading `/`. */
async function addEntries(ctx: ExecContext, archive: Pack, path: string, problems: Problems): Promise<void> {
  let stat;
  try {
    stat = ctx.files.stat(path);
  } catch (error) {
    if (!(error instanceof FakeFileSystemError)) throw error;
  }
  if (!stat) {
    await problems.report(`${path}: Cannot stat: No such file or directory`);
    return;
  }
  const name = pathNames(path).join('/');
  const header: Partial<Header> & Pick<Header, 'name'> = { name, mode: stat.mode, mtime: stat.mtime, uname: 'root', gname: 'root', uid: 0, gid: 0 };
  if (ctx.signal.aborted) return;
  if (stat.type === 'directory') {
    await entry(archive, { ...header, name: `${name}/`, type: 'directory' });
    for (const child of ctx.files.list(path)) await addEntries(ctx, archive, `/${name}/${child}`, problems);
  } else if (stat.type === 'symlink') {
    await entry(archive, { ...header, type: 'symlink', linkname: stat.linkTarget ?? '' });
  } else {
    await entry(archive, { ...header, type: 'file', size: stat.size }, ctx.files.readFile(path));
  }
}

function entry(archive: Pack, header: Partial<Header> & Pick<Header, 'name'>, data?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => archive.entry(header, data ?? Buffer.alloc(0), (error) => (error ? reject(error) : resolve())));
}

async function create(ctx: ExecContext, options: TarOptions): Promise<number> {
  const archive = pack();
  const problems = new Problems(ctx);
  const sending = (async () => {
    for await (const chunk of archive) await write(ctx.stdout, chunk as Buffer);
  })();
  if (options.operands.some((path) => path.startsWith('/'))) await write(ctx.stderr, "tar: Removing leading `/' from member names\n");
  for (const path of options.operands) await addEntries(ctx, archive, path, problems);
  archive.finalize();
  await sending;
  return problems.exitCode();
}

/** Problems go to stderr as they happen, as GNU tar reports them; any of them makes the exit code 2. */
class Problems {
  readonly #ctx: ExecContext;
  #count = 0;

  constructor(ctx: ExecContext) {
    this.#ctx = ctx;
  }

  report(text: string): Promise<void> {
    this.#count++;
    return write(this.#ctx.stderr, `tar: ${text}\n`);
  }

  async exitCode(): Promise<number> {
    if (this.#count === 0) return 0;
    await write(this.#ctx.stderr, 'tar: Exiting with failure status due to previous errors\n');
    return 2;
  }
}

async function readEntry(stream: AsyncIterable<unknown>, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const data = Buffer.concat(chunks);
  if (data.length !== size) throw new Error(`entry has ${data.length} bytes, its header says ${size}`);
  return data;
}

async function extractOrList(ctx: ExecContext, options: TarOptions): Promise<number> {
  const target = ctx.files.stat(options.directory);
  if (target?.type !== 'directory') return fail(ctx, 'tar', `${options.directory}: Cannot open: ${target ? 'Not a directory' : 'No such file or directory'}`, 2);
  const archive = extract();
  const problems = new Problems(ctx);
  ctx.stdin.pipe(archive);
  try {
    for await (const member of archive) {
      const { header } = member;
      const names = header.name.split('/').filter((name) => name !== '' && name !== '.');
      const path = `/${options.directory}/${names.join('/')}`;
      if (options.verbose || options.mode === 't') await write(ctx.stdout, `${header.name}\n`);
      if (options.mode === 't' || names.length === 0) {
        member.resume();
        continue;
      }
      if (names.includes('..')) {
        await problems.report(`${header.name}: Member name contains '..'`);
        member.resume();
        continue;
      }
      const size = header.size ?? 0;
      try {
        if (header.type === 'directory') ctx.files.mkdir(path, { mode: header.mode });
        else if (header.type === 'symlink') ctx.files.symlink(path, header.linkname ?? '');
        else if (header.type === 'file' || header.type === 'contiguous-file') {
          if (size > MAX_POD_BYTES - ctx.files.bytesUsed) throw new FakeFileSystemError('ENOSPC', header.name);
          const data = await readEntry(member, size);
          ctx.files.writeFile(path, data, {
            mode: options.keepPermissions ? header.mode : 0o644,
            ...(options.keepMtime && header.mtime ? { mtime: header.mtime } : {}),
          });
        } else await problems.report(`${header.name}: Cannot create ${header.type} entries in the fake's pods`);
      } catch (error) {
        if (!(error instanceof FakeFileSystemError)) throw error;
        await problems.report(`${header.name}: Cannot write: ${error.message.slice(error.message.lastIndexOf(': ') + 2)}`);
      }
      member.resume();
    }
  } catch (error) {
    ctx.stdin.unpipe(archive);
    ctx.stdin.resume();
    await problems.report(`This does not look like a tar archive (${(error as Error).message})`);
  }
  return problems.exitCode();
}

export const TAR_COMMANDS: Readonly<Record<string, Command>> = {
  tar: async (ctx, args) => {
    const options = parseOptions(args);
    if (typeof options === 'string') return fail(ctx, 'tar', `${options}\n${USAGE}`, 2);
    return options.mode === 'c' ? create(ctx, options) : extractOrList(ctx, options);
  },
};
