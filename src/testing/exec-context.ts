import type { Readable, Writable } from 'node:stream';
import type { FakeFileSystem } from './file-tree.ts';

/** A terminal size, from the client's resize channel (kubectl's `{"Width":..,"Height":..}`). */
export interface TerminalSize {
  readonly cols: number;
  readonly rows: number;
}

/** What a simulated command sees; given to {@link FakeClusterOptions.exec}. */
export interface ExecContext {
  /** The command and its arguments (`command` query parameters), e.g. `['sh', '-c', 'exit 3']`. */
  readonly argv: readonly string[];
  /** Namespace of the pod. */
  readonly namespace: string;
  /** Name of the pod. */
  readonly pod: string;
  /** The container the command runs in (the requested one, or the pod's only container). */
  readonly container: string;
  /** The user the request authenticated as (after impersonation). */
  readonly user: string;
  /** Whether the client asked for a TTY; then stderr writes go to stdout, as with a real terminal. */
  readonly tty: boolean;
  /** The client's stdin; ends when the client closes it (v5 close signal), disconnects, or sent no stdin. */
  readonly stdin: Readable;
  /** Writes to the client's stdout (discarded if the client did not ask for stdout). */
  readonly stdout: Writable;
  /** Writes to the client's stderr (discarded if the client did not ask for stderr). */
  readonly stderr: Writable;
  /** The pod's files (shared by its containers), which the built-in `tar`, `cat`, `ls`, `test` use. */
  readonly files: FakeFileSystem;
  /** The last terminal size the client sent, if any. */
  readonly terminalSize: TerminalSize | undefined;
  /**
   * Resolves with the next terminal size the client sends, or `undefined` if the session ends
   * first. Sizes sent together wake it once: read `terminalSize` then for the latest.
   */
  nextResize(): Promise<TerminalSize | undefined>;
  /** Aborted when the client disconnects or the fake cluster closes. */
  readonly signal: AbortSignal;
  /** Ends the command with this exit code (the same as returning it). */
  exit(code: number): void;
  /** Runs the built-in command set on this context: lets a custom handler fall back to it. */
  builtin(): Promise<number>;
}

/**
 * A custom exec implementation. The command ends when the returned number (or promise) settles,
 * or when `ctx.exit(code)` is called, whichever comes first; a thrown error ends it with an
 * InternalError status.
 *
 * @example
 * ```ts
 * const exec: ExecHandler = async (ctx) => {
 *   if (ctx.argv[0] !== 'deploy') return ctx.builtin();
 *   ctx.stdout.write('deployed\n');
 *   return 0;
 * };
 * ```
 */
export type ExecHandler = (ctx: ExecContext) => number | void | Promise<number | void>;
