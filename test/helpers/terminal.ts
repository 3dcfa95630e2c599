import { spawn, spawnSync } from 'node:child_process';

/** A program running on a pseudo-terminal (util-linux `script`), driven like a person at a keyboard. */
export interface TerminalSession {
  /** Everything the terminal showed so far. */
  readonly output: () => string;
  /** Types text (use `\r` for Enter: the program runs the terminal raw). */
  type(text: string): void;
  /** Resolves with the output once it matches `pattern` after position `from`; rejects after `timeoutMs` with what was seen. */
  waitFor(pattern: RegExp, from?: number, timeoutMs?: number): Promise<string>;
  /** Changes the terminal size, which sends SIGWINCH to the program, as a window resize does. */
  resize(rows: number, cols: number): void;
  /** The program's exit code. */
  readonly exited: Promise<number | null>;
  kill(): void;
}

const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;

/** Starts `argv` on a new pseudo-terminal of `rows` x `cols`. */
export function startTerminal(argv: readonly string[], env: NodeJS.ProcessEnv, size: { rows: number; cols: number }): TerminalSession {
  // `tty` first: the test needs the terminal's name to resize it from outside.
  const script = `tty; stty rows ${size.rows} cols ${size.cols}; exec ${argv.map(quote).join(' ')}`;
  const child = spawn('script', ['-qfec', script, '/dev/null'], { env });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  void exited.then(() => clearTimeout(timer));

  const waitFor = (pattern: RegExp, from = 0, timeoutMs = 10_000) =>
    new Promise<string>((resolve, reject) => {
      const settle = (result: string | Error) => {
        listeners.delete(check);
        clearTimeout(deadline);
        if (typeof result === 'string') resolve(result);
        else reject(result);
      };
      const check = () => {
        const match = pattern.exec(output.slice(from));
        if (match) settle(match[0]);
      };
      const deadline = setTimeout(() => settle(new Error(`the terminal did not show ${String(pattern)} within ${timeoutMs} ms; it showed:\n${output}`)), timeoutMs);
      listeners.add(check);
      check();
      // 'close' comes after the last output: a program that ended without showing it never will.
      void exited.then(() => {
        check();
        if (listeners.has(check)) settle(new Error(`the program exited before showing ${String(pattern)}; it showed:\n${output}`));
      });
    });

  return {
    output: () => output,
    type: (text) => child.stdin.write(text),
    waitFor,
    resize: (rows, cols) => {
      const pts = /\/dev\/pts\/\d+/.exec(output)?.[0];
      if (!pts) throw new Error(`no terminal name in the output yet:\n${output}`);
      const result = spawnSync('stty', ['-F', pts, 'rows', String(rows), 'cols', String(cols)]);
      if (result.status !== 0) throw new Error(`stty -F ${pts} failed: ${result.stderr.toString()}`);
    },
    exited,
    kill: () => child.kill('SIGKILL'),
  };
}
