import { fail, write, type Command } from './command-io.ts';
import { FakeFileSystemError, type FakeFileStat } from './file-tree.ts';

/** Runs a file operation; a file system error becomes the command's message and exit code 1. */
async function attempt(name: string, ctx: Parameters<Command>[0], operation: () => Promise<void> | void): Promise<number> {
  try {
    await operation();
    return 0;
  } catch (error) {
    if (error instanceof FakeFileSystemError) return fail(ctx, name, error.message);
    throw error;
  }
}

/** An entry's stat; nothing also when a parent is not a directory, as `test -e a/b` with a file `a`. */
function statOrNothing(ctx: Parameters<Command>[0], path: string): FakeFileStat | undefined {
  try {
    return ctx.files.stat(path);
  } catch {
    return undefined;
  }
}

function flagsAndPaths(args: readonly string[]): { flags: Set<string>; paths: string[] } {
  const flags = new Set<string>();
  const paths: string[] = [];
  for (const arg of args) {
    if (arg.startsWith('-') && arg.length > 1 && paths.length === 0) for (const flag of arg.slice(1)) flags.add(flag);
    else paths.push(arg);
  }
  return { flags, paths };
}

/** Commands on the pod's file tree (`ctx.files`): `test`, `ls`, `mkdir`, `rm`, and `cat` with file names. */
export const FILE_COMMANDS: Readonly<Record<string, Command>> = {
  test: (ctx, args) => {
    // `test -d PATH` is what kubectl cp runs to see whether the destination is a directory.
    const [operator, path, ...rest] = args;
    if (operator === undefined || path === undefined || rest.length > 0 || !['-d', '-e', '-f', '-s', '-L'].includes(operator)) {
      return fail(ctx, 'test', `unsupported expression: ${args.join(' ')}`, 2);
    }
    const stat = statOrNothing(ctx, path);
    const holds = {
      '-d': stat?.type === 'directory',
      '-e': stat !== undefined,
      '-f': stat?.type === 'file',
      '-s': stat !== undefined && stat.size > 0,
      '-L': stat?.type === 'symlink',
    }[operator as '-d'];
    return Promise.resolve(holds ? 0 : 1);
  },
  ls: (ctx, args) => {
    const { paths } = flagsAndPaths(args);
    return attempt('ls', ctx, async () => {
      for (const path of paths.length > 0 ? paths : ['/']) {
        const stat = ctx.files.stat(path);
        if (!stat) throw new FakeFileSystemError('ENOENT', `cannot access '${path}'`);
        const names = stat.type === 'directory' ? ctx.files.list(path) : [path];
        await write(ctx.stdout, names.map((name) => `${name}\n`).join(''));
      }
    });
  },
  mkdir: (ctx, args) => {
    const { flags, paths } = flagsAndPaths(args);
    const existing = flags.has('p') ? undefined : paths.find((path) => statOrNothing(ctx, path));
    if (existing !== undefined) return fail(ctx, 'mkdir', `cannot create directory '${existing}': File exists`);
    return attempt('mkdir', ctx, () => {
      for (const path of paths) ctx.files.mkdir(path);
    });
  },
  rm: (ctx, args) => {
    const { flags, paths } = flagsAndPaths(args);
    return attempt('rm', ctx, () => {
      for (const path of paths) {
        const stat = ctx.files.stat(path);
        if (!stat && flags.has('f')) continue;
        if (stat?.type === 'directory' && !flags.has('r')) throw new FakeFileSystemError('EISDIR', `cannot remove '${path}'`);
        ctx.files.remove(path);
      }
    });
  },
  cat: (ctx, args) => {
    if (args.length === 0) {
      return (async () => {
        for await (const chunk of ctx.stdin) await write(ctx.stdout, chunk as Buffer);
        return 0;
      })();
    }
    return attempt('cat', ctx, async () => {
      for (const path of args) await write(ctx.stdout, ctx.files.readFile(path));
    });
  },
};
