import { finished } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import { runBuiltinCommand } from './commands.ts';
import type { ExecContext, ExecHandler, TerminalSize } from './exec-context.ts';
import type { FakeFileSystem } from './file-tree.ts';

/** The parameters of one exec or attach request. */
export interface ExecRequest {
  readonly argv: readonly string[];
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly user: string;
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
}

/**
 * The channels of one exec or attach session, whatever carries them (WebSocket channels or SPDY
 * streams). Writes to stdout and stderr call back only once the client's connection took them,
 * so a client that stops reading stops the command's output.
 */
export interface SessionChannels {
  /** Remote-command protocol version, 1 (`channel.k8s.io`) to 5: decides the status format. */
  readonly version: number;
  /** The client's stdin; ends when the client closes it or goes away. */
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Settles when the client is gone. */
  readonly closed: Promise<void>;
  /** Registers the listener of the client's terminal size changes. */
  onResize(listener: (size: TerminalSize) => void): void;
  /** Sends the final status (none for success before v4) and ends the session. */
  finish(status: string | undefined): void;
}

function exitStatus(version: number, argv: readonly string[], code: number): string | undefined {
  if (code === 0) return version >= 4 ? JSON.stringify({ metadata: {}, status: 'Success' }) : undefined;
  const message = `command terminated with non-zero exit code: error executing command [${argv.join(' ')}], exit code ${code}`;
  if (version < 4) return message;
  return JSON.stringify({
    metadata: {},
    status: 'Failure',
    message,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  });
}

function internalError(version: number, error: unknown): string {
  const message = `Internal error occurred: ${error instanceof Error ? error.message : String(error)}`;
  if (version < 4) return message;
  return JSON.stringify({ metadata: {}, status: 'Failure', message, reason: 'InternalError', details: { causes: [{ message }] }, code: 500 });
}

/** A resize message (`{"Width":80,"Height":24}`) as a size; `undefined` when malformed, which the kubelet ignores. */
export function parseResize(text: string): TerminalSize | undefined {
  try {
    const { Width, Height } = JSON.parse(text) as { Width?: unknown; Height?: unknown };
    const valid = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffff;
    return valid(Width) && valid(Height) ? { cols: Width, rows: Height } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs one command on a session's channels: gives the handler its context, then sends the exit
 * status and ends the session. Resolves when the session is over (command finished or client gone).
 */
export async function runSession(channels: SessionChannels, request: ExecRequest, files: FakeFileSystem, handler: ExecHandler): Promise<void> {
  const abort = new AbortController();
  let terminalSize: TerminalSize | undefined;
  const resizeWaiters = new Set<(size: TerminalSize | undefined) => void>();
  channels.onResize((size) => {
    terminalSize = size;
    for (const waiter of resizeWaiters) waiter(size);
    resizeWaiters.clear();
  });
  const { stdin, stdout } = channels;
  // With a TTY the terminal merges stderr into stdout, and the apiserver ignores stderr=true.
  const stderr = request.tty ? stdout : channels.stderr;
  // A handler writing after the command ended must not crash the process.
  for (const stream of [stdout, stderr, stdin]) stream.on('error', () => undefined);
  void channels.closed.then(() => {
    abort.abort();
    for (const waiter of resizeWaiters) waiter(undefined);
    resizeWaiters.clear();
  });

  let exit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (exit = resolve));
  const ctx: ExecContext = {
    argv: request.argv,
    namespace: request.namespace,
    pod: request.pod,
    container: request.container,
    user: request.user,
    tty: request.tty,
    stdin,
    stdout,
    stderr,
    files,
    get terminalSize() {
      return terminalSize;
    },
    nextResize: () => (abort.signal.aborted ? Promise.resolve(undefined) : new Promise((resolve) => resizeWaiters.add(resolve))),
    signal: abort.signal,
    exit: (code) => exit(code),
    builtin: () => runBuiltinCommand(ctx),
  };

  let status: string | undefined;
  try {
    const returned = Promise.resolve(handler(ctx)).then((code) => (typeof code === 'number' ? exit(code) : undefined));
    const code = await Promise.race([exited, returned.then(() => exited), channels.closed.then(() => undefined)]);
    if (code === undefined) return;
    if (!Number.isInteger(code) || code < 0 || code > 255) throw new Error(`exit code must be an integer from 0 to 255, got ${code}`);
    for (const stream of [stdout, stderr]) if (!stream.writableEnded) stream.end();
    // Only the writable side: a SPDY stream's readable side is the client's, not ours to wait for.
    await Promise.race([Promise.all([finished(stdout, { readable: false }), finished(stderr, { readable: false })]), channels.closed]);
    status = exitStatus(channels.version, request.argv, code);
  } catch (error) {
    status = internalError(channels.version, error);
  }
  channels.finish(status);
}
