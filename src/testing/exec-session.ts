import { finished } from 'node:stream/promises';
import { PassThrough, Writable } from 'node:stream';
import type { WebSocket } from 'ws';
import { CLOSE, decodeFrame, encodeFrame, ERROR, RESIZE, STDERR, STDIN, STDOUT, type ChannelProtocol } from './channel-protocol.ts';
import { runBuiltinCommand } from './commands.ts';
import type { ExecContext, ExecHandler, TerminalSize } from './exec-context.ts';

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

function exitStatus(protocol: ChannelProtocol, argv: readonly string[], code: number): string | undefined {
  if (code === 0) return protocol.version >= 4 ? JSON.stringify({ metadata: {}, status: 'Success' }) : undefined;
  const message = `command terminated with non-zero exit code: error executing command [${argv.join(' ')}], exit code ${code}`;
  if (protocol.version < 4) return message;
  return JSON.stringify({
    metadata: {},
    status: 'Failure',
    message,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  });
}

function internalError(protocol: ChannelProtocol, error: unknown): string {
  const message = `Internal error occurred: ${error instanceof Error ? error.message : String(error)}`;
  if (protocol.version < 4) return message;
  return JSON.stringify({ metadata: {}, status: 'Failure', message, reason: 'InternalError', details: { causes: [{ message }] }, code: 500 });
}

/**
 * Runs one command over an accepted WebSocket: demultiplexes stdin and resize messages, gives the
 * handler its streams, then sends the exit status on the error channel and closes normally.
 * Resolves when the session is over (command finished or client gone).
 */
export async function runExecSession(ws: WebSocket, protocol: ChannelProtocol, request: ExecRequest, handler: ExecHandler): Promise<void> {
  const abort = new AbortController();
  const stdin = new PassThrough();
  if (!request.stdin) stdin.end();
  let terminalSize: TerminalSize | undefined;
  const resizeWaiters = new Set<(size: TerminalSize | undefined) => void>();

  const send = (channel: number, payload: Uint8Array, callback?: () => void) => {
    if (ws.readyState !== ws.OPEN) {
      // The client is gone or going: stop commands now rather than when 'close' arrives.
      abort.abort();
      callback?.();
      return;
    }
    // A failed send means the client is gone; the close handler ends the session.
    ws.send(encodeFrame(protocol, channel, payload), () => callback?.());
  };
  const writer = (channel: number, enabled: boolean) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (enabled) send(channel, chunk, () => callback());
        else callback();
      },
    });
  const stdout = writer(STDOUT, request.stdout);
  // With a TTY the terminal merges stderr into stdout, and the apiserver ignores stderr=true.
  const stderr = request.tty ? stdout : writer(STDERR, request.stderr);
  // A handler writing after the command ended must not crash the process.
  for (const stream of [stdout, stderr]) stream.on('error', () => undefined);

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const frame = decodeFrame(protocol, data, isBinary);
    if (!frame) return;
    if (frame.channel === STDIN && request.stdin && !stdin.writableEnded) {
      stdin.write(frame.payload);
    } else if (frame.channel === RESIZE && protocol.version >= 3) {
      try {
        const { Width, Height } = JSON.parse(frame.payload.toString('utf8')) as { Width?: unknown; Height?: unknown };
        if (typeof Width === 'number' && typeof Height === 'number') {
          terminalSize = { cols: Width, rows: Height };
          for (const waiter of resizeWaiters) waiter(terminalSize);
          resizeWaiters.clear();
        }
      } catch {
        // A malformed resize message is ignored, as the kubelet does.
      }
    } else if (frame.channel === CLOSE && protocol.version >= 5 && frame.payload[0] === STDIN) {
      stdin.end();
    }
  });
  ws.on('error', () => {
    // The 'close' event follows; nothing else to do.
  });
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  void closed.then(() => {
    abort.abort();
    if (!stdin.writableEnded) stdin.end();
    for (const waiter of resizeWaiters) waiter(undefined);
    resizeWaiters.clear();
  });

  // The kubelet's "connected" signal: an empty message on the lowest writable channel.
  send(request.stdout ? STDOUT : request.stderr && !request.tty ? STDERR : ERROR, new Uint8Array(0));

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
    get terminalSize() {
      return terminalSize;
    },
    nextResize: () =>
      abort.signal.aborted ? Promise.resolve(undefined) : new Promise((resolve) => resizeWaiters.add(resolve)),
    signal: abort.signal,
    exit: (code) => exit(code),
    builtin: () => runBuiltinCommand(ctx),
  };

  let status: string | undefined;
  try {
    const returned = Promise.resolve(handler(ctx)).then((code) => (typeof code === 'number' ? exit(code) : undefined));
    const code = await Promise.race([exited, returned.then(() => exited), closed.then(() => undefined)]);
    if (code === undefined) return;
    if (!Number.isInteger(code) || code < 0 || code > 255) throw new Error(`exit code must be an integer from 0 to 255, got ${code}`);
    for (const stream of [stdout, stderr]) if (!stream.writableEnded) stream.end();
    await Promise.race([Promise.all([finished(stdout), finished(stderr)]), closed]);
    status = exitStatus(protocol, request.argv, code);
  } catch (error) {
    status = internalError(protocol, error);
  }
  if (status !== undefined) send(ERROR, Buffer.from(status, 'utf8'));
  if (ws.readyState === ws.OPEN) ws.close(1000);
}
