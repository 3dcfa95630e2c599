import { spawn, type ChildProcess } from 'node:child_process';
import { describeError, redactedExcerpt } from '../redact.ts';

/** The most a plugin may print on stdout; an ExecCredential, even with a certificate chain, is a few KiB. */
export const MAX_EXEC_OUTPUT_BYTES = 1024 * 1024;
/** Stderr kept for the excerpt: bounded whatever the plugin writes. */
const MAX_STDERR_KEPT_BYTES = 16 * 1024;
const STDERR_EXCERPT_CHARS = 300;

/** Why a plugin run produced no output to parse. */
export type ExecRunFailure = 'not-found' | 'not-started' | 'exit' | 'timeout' | 'too-large';

/**
 * A plugin run that failed. The message completes "the exec plugin "<command>" ..." and is safe to
 * show: it never holds stdout, and stderr only as a redacted excerpt.
 */
export class ExecRunError extends Error {
  readonly reason: ExecRunFailure;

  constructor(reason: ExecRunFailure, message: string) {
    super(message);
    this.name = 'ExecRunError';
    this.reason = reason;
  }
}

/** One run of an exec plugin. */
export interface ExecRun {
  /** A path, or a name looked up on `env.PATH`. */
  command: string;
  args: readonly string[];
  /** The plugin's whole environment. */
  env: NodeJS.ProcessEnv;
  /** Milliseconds before the plugin (and whatever it started) is killed. */
  timeoutMs: number;
}

// Its own process group lets a timeout kill what the plugin started too (a `sh` script's `sleep`),
// whose open stdout would otherwise keep the run pending. It also detaches the plugin from any
// terminal: a server has none to offer.
const OWN_PROCESS_GROUP = process.platform !== 'win32';

/**
 * Runs a plugin without a shell and without stdin, and resolves with its stdout once it exits with
 * code 0.
 * @throws {ExecRunError} when it cannot be started, exits otherwise, outlives `timeoutMs` or prints
 * more than {@link MAX_EXEC_OUTPUT_BYTES}.
 */
export function runExecPlugin(run: ExecRun): Promise<string> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(run.command, run.args, {
        env: run.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: OWN_PROCESS_GROUP,
        windowsHide: true,
      });
    } catch (error) {
      // Invalid arguments (a NUL byte in an argument or a variable) throw instead of emitting 'error'.
      reject(new ExecRunError('not-started', `could not be started: ${describeError(error)}`));
      return;
    }
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    const stderr: Buffer[] = [];
    let stderrBytes = 0;
    let settled = false;

    const kill = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(OWN_PROCESS_GROUP ? -child.pid : child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
      child.stdout?.destroy();
      child.stderr?.destroy();
    };
    const fail = (error: ExecRunError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      kill();
      reject(error);
    };
    const timer = setTimeout(() => fail(new ExecRunError('timeout', `timed out after ${run.timeoutMs} ms`)), run.timeoutMs);

    child.stdout?.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > MAX_EXEC_OUTPUT_BYTES) fail(new ExecRunError('too-large', 'printed more than 1 MiB on stdout'));
      else stdout.push(chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderrBytes >= MAX_STDERR_KEPT_BYTES) return;
      stderr.push(chunk);
      stderrBytes += chunk.length;
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      fail(
        error.code === 'ENOENT'
          ? new ExecRunError('not-found', 'was not found (ENOENT)')
          : new ExecRunError('not-started', `could not be started: ${describeError(error)}`),
      );
    });
    child.on('close', (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // What the plugin left running when it exited is its own business: only a run cut short is killed.
      if (code === 0) {
        resolve(Buffer.concat(stdout).toString('utf8'));
        return;
      }
      const excerpt = stderrExcerpt(Buffer.concat(stderr).toString('utf8'));
      const how = signal ? `was killed by ${signal}` : `failed with exit code ${String(code)}`;
      reject(new ExecRunError('exit', excerpt ? `${how}: ${excerpt}` : `${how} and printed nothing on stderr`));
    });
  });
}

/**
 * The start of a plugin's stderr for an error message: whitespace collapsed, control characters
 * dropped, anything that looks like a token replaced by `[redacted]`, at most 300 characters.
 */
export function stderrExcerpt(stderr: string): string {
  return redactedExcerpt(stderr, STDERR_EXCERPT_CHARS);
}
