import { once } from 'node:events';
import { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { write, type Command } from './command-io.ts';
import type { ExecContext, ExecHandler } from './exec-context.ts';
import { FILE_COMMANDS } from './file-commands.ts';
import { TAR_COMMANDS } from './tar-commands.ts';

/** Output chunk size of the `bytes` command. */
const CHUNK_SIZE = 32 * 1024;

function exitCode(text: string | undefined): number {
  const code = Number(text ?? '0');
  return Number.isInteger(code) ? code & 0xff : 2;
}

/** Splits a `sh -c` script into words, honouring single and double quotes (no expansions). */
function words(script: string): string[] {
  return [...script.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2] ?? match[3] ?? '');
}

function dateText(date: Date): string {
  const [weekday, , day, month, year, time] = date.toUTCString().replace(',', '').split(' ');
  return `${weekday} ${month} ${day} ${time} UTC ${year}`;
}

const COMMANDS: Record<string, Command> = {
  echo: async (ctx, args) => {
    const noNewline = args[0] === '-n';
    await write(ctx.stdout, (noNewline ? args.slice(1) : args).join(' ') + (noNewline ? '' : '\n'));
    return 0;
  },
  whoami: async (ctx) => {
    await write(ctx.stdout, `${ctx.user}\n`);
    return 0;
  },
  hostname: async (ctx) => {
    await write(ctx.stdout, `${ctx.pod}\n`);
    return 0;
  },
  env: async (ctx) => {
    const variables = [
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      `HOSTNAME=${ctx.pod}`,
      ...(ctx.tty ? ['TERM=xterm'] : []),
      'KUBERNETES_SERVICE_HOST=10.96.0.1',
      'KUBERNETES_SERVICE_PORT=443',
      'HOME=/root',
    ];
    await write(ctx.stdout, variables.map((line) => `${line}\n`).join(''));
    return 0;
  },
  date: async (ctx) => {
    await write(ctx.stdout, `${dateText(new Date())}\n`);
    return 0;
  },
  true: () => Promise.resolve(0),
  false: () => Promise.resolve(1),
  exit: (_ctx, args) => Promise.resolve(exitCode(args[0])),
  stderr: async (ctx, args) => {
    await write(ctx.stderr, `${args.join(' ')}\n`);
    return 0;
  },
  sleep: async (ctx, args) => {
    const seconds = Number(args[0]);
    if (!Number.isFinite(seconds) || seconds < 0) {
      await write(ctx.stderr, `sleep: invalid time interval '${args[0] ?? ''}'\n`);
      return 1;
    }
    await delay(seconds * 1000, undefined, { signal: ctx.signal }).catch(() => undefined);
    return 0;
  },
  bytes: async (ctx, args) => {
    const total = Number(args[0]);
    if (!Number.isSafeInteger(total) || total < 0) {
      await write(ctx.stderr, `bytes: invalid byte count '${args[0] ?? ''}'\n`);
      return 1;
    }
    // Byte i is i % 256, so a receiver can check that nothing was lost or reordered.
    const pattern = Buffer.alloc(CHUNK_SIZE, 0).map((_, index) => index % 256);
    for (let sent = 0; sent < total && !ctx.signal.aborted; sent += CHUNK_SIZE) {
      await write(ctx.stdout, pattern.subarray(0, Math.min(CHUNK_SIZE, total - sent)));
    }
    return 0;
  },
  'tty-size': async (ctx) => {
    if (!ctx.tty) {
      await write(ctx.stderr, 'tty-size: standard input: Not a tty\n');
      return 1;
    }
    const size = ctx.terminalSize ?? (await ctx.nextResize());
    if (!size) return 1;
    await write(ctx.stdout, `${size.cols}x${size.rows}\n`);
    return 0;
  },
  stty: async (ctx, args) => {
    if (args.join(' ') !== 'size') {
      await write(ctx.stderr, `stty: only 'stty size' is available in the fake's pods\n`);
      return 1;
    }
    if (!ctx.tty) {
      await write(ctx.stderr, "stty: 'standard input': Inappropriate ioctl for device\n");
      return 1;
    }
    // A terminal nobody has sized yet is 0x0, as a fresh pseudo-terminal is.
    const size = ctx.terminalSize ?? { rows: 0, cols: 0 };
    await write(ctx.stdout, `${size.rows} ${size.cols}\n`);
    return 0;
  },
  sh: shell,
  bash: shell,
  ...FILE_COMMANDS,
  ...TAR_COMMANDS,
};

function shell(ctx: ExecContext, args: readonly string[]): Promise<number> {
  return args[0] === '-c' ? runCommandLine(ctx, words(args[1] ?? '')) : interactiveShell(ctx);
}

function runCommandLine(ctx: ExecContext, argv: readonly string[]): Promise<number> {
  const [name = '', ...args] = argv;
  const command = COMMANDS[name];
  if (command) return command(ctx, args);
  return write(ctx.stderr, `exec: "${name}": executable file not found in $PATH\n`).then(() => 127);
}

/**
 * A line-based shell for interactive sessions (`kubectl exec -it ... -- sh`): prompts, echoes what
 * is typed when there is a TTY, and runs each line as a built-in command.
 */
async function interactiveShell(ctx: ExecContext): Promise<number> {
  const prompt = () => write(ctx.stdout, `${ctx.pod}:/# `);
  const newline = ctx.tty ? '\r\n' : '\n';
  let line = '';
  await prompt();
  for await (const chunk of ctx.stdin) {
    for (const char of (chunk as Buffer).toString('utf8')) {
      if (char === '\r' || char === '\n') {
        if (ctx.tty) await write(ctx.stdout, newline);
        const argv = words(line);
        line = '';
        if (argv[0] === 'exit') return exitCode(argv[1]);
        // Commands inside the shell get no stdin: the shell keeps reading it.
        if (argv.length > 0) await runCommandLine({ ...ctx, stdin: emptyStdin(), argv }, argv);
        await prompt();
      } else if (char === '\x7f' || char === '\b') {
        if (line.length > 0 && ctx.tty) await write(ctx.stdout, '\b \b');
        line = line.slice(0, -1);
      } else if (char === '\x04' && line === '') {
        return 0;
      } else {
        line += char;
        if (ctx.tty) await write(ctx.stdout, char);
      }
    }
  }
  return 0;
}

function emptyStdin(): Readable {
  return Readable.from([]);
}

/**
 * Runs `ctx.argv` with the built-in command set and returns the exit code:
 * `echo [-n] args...`, `cat [FILE...]` (stdin without files), `whoami`, `hostname`, `env`,
 * `ls [PATH...]`, `test -d|-e|-f|-s|-L PATH`, `mkdir [-p] DIR...`, `rm [-rf] PATH...`,
 * `tar cf - PATH...` / `tar xf - [-C DIR]` / `tar tf -` (what `kubectl cp` runs; files live in
 * `ctx.files`), `date`, `true`, `false`, `exit N`, `stderr text...` (writes to stderr),
 * `sleep SECONDS`, `bytes N` (N bytes in 32 KiB chunks, byte i being i % 256, for throughput and
 * integrity tests), `stty size` (`ROWS COLS` of the client's terminal, `0 0` before any resize;
 * exits 1 without a TTY), `tty-size` (`COLSxROWS`, waiting for the first resize), `sh -c "script"`
 * / `bash -c` (one command, quotes honoured, no expansions, so `sh -c "exit 3"` exits 3), and
 * `sh` / `bash` alone (an interactive line shell). An unknown command writes
 * `exec: "name": executable file not found in $PATH` to stderr and exits 127.
 */
export function runBuiltinCommand(ctx: ExecContext): Promise<number> {
  return runCommandLine(ctx, ctx.argv);
}

/** Attach to the main process: echoes stdin like `cat`; without stdin it runs until the client leaves. */
export function attachMainProcess(stdinRequested: boolean): ExecHandler {
  return async (ctx: ExecContext) => {
    if (!stdinRequested) {
      await once(ctx.signal, 'abort');
      return 0;
    }
    return runCommandLine(ctx, ['cat']);
  };
}
