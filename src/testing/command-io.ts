import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { ExecContext } from './exec-context.ts';

/** A built-in command: gets its arguments (without its name) and resolves with its exit code. */
export type Command = (ctx: ExecContext, args: readonly string[]) => Promise<number>;

/** Writes and waits while the stream is full, so that commands follow the client's pace. */
export async function write(stream: Writable, text: string | Uint8Array): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

/** Writes `name: message` to stderr, as coreutils do, and returns the exit code. */
export async function fail(ctx: ExecContext, name: string, message: string, code = 1): Promise<number> {
  await write(ctx.stderr, `${name}: ${message}\n`);
  return code;
}
