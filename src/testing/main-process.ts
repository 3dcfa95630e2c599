import { PassThrough, Writable } from 'node:stream';
import { runBuiltinCommand } from './commands.ts';
import type { ExecContext, ExecHandler, TerminalSize } from './exec-context.ts';
import type { FakeFileSystem } from './file-tree.ts';

/** Who runs the process: everything of its context that does not come from one attach session. */
export interface ProcessIdentity {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly tty: boolean;
  readonly files: FakeFileSystem;
}

interface Running {
  readonly stdin: PassThrough;
  readonly abort: AbortController;
  readonly exited: Promise<number>;
  size: TerminalSize | undefined;
  readonly resizeWaiters: Set<(size: TerminalSize | undefined) => void>;
}

/**
 * A container's main process (`command` in its spec): started by the first attach, it keeps running
 * when clients detach, as a real container's process does. Attached clients share its stdin; its
 * output goes to every attached client and is dropped while none is (a write waits for the slowest
 * client). When it exits, attached clients get its exit code and the next attach starts it again,
 * as the kubelet restarts a container.
 */
export class MainProcess {
  readonly #argv: readonly string[];
  readonly #identity: ProcessIdentity;
  readonly #run: ExecHandler;
  readonly #sessions = new Set<ExecContext>();
  #running: Running | undefined;

  constructor(argv: readonly string[], identity: ProcessIdentity, run: ExecHandler) {
    this.#argv = argv;
    this.#identity = identity;
    this.#run = run;
  }

  /** The handler of one attach session. */
  attach(session: ExecContext): Promise<number | undefined> {
    const running = this.#running ?? this.#start();
    this.#sessions.add(session);
    if (session.terminalSize) this.#resize(running, session.terminalSize);
    void this.#followResizes(running, session);
    const forward = (chunk: Buffer) => {
      if (running.stdin.writableEnded || running.stdin.write(chunk)) return;
      session.stdin.pause();
      running.stdin.once('drain', () => session.stdin.resume());
    };
    session.stdin.on('data', forward);
    const detached = new Promise<undefined>((resolve) => session.signal.addEventListener('abort', () => resolve(undefined), { once: true }));
    return Promise.race([running.exited, detached]).finally(() => {
      session.stdin.off('data', forward);
      this.#sessions.delete(session);
    });
  }

  /** Stops the process (pod deleted, fake closing). */
  stop(): void {
    this.#running?.abort.abort();
  }

  #start(): Running {
    const fanOut = (pick: (session: ExecContext) => Writable) =>
      new Writable({
        write: (chunk: Buffer, _encoding, callback) => {
          const writes = [...this.#sessions].map((session) => new Promise<void>((resolve) => (pick(session).write(chunk) ? resolve() : pick(session).once('drain', resolve))));
          void Promise.race([Promise.all(writes), ...[...this.#sessions].map((session) => aborted(session.signal))]).then(() => callback());
        },
      });
    const abort = new AbortController();
    const resizeWaiters = new Set<(size: TerminalSize | undefined) => void>();
    abort.signal.addEventListener('abort', () => resizeWaiters.forEach((waiter) => waiter(undefined)), { once: true });
    let exit: (code: number) => void = () => undefined;
    const exited = new Promise<number>((resolve) => (exit = resolve));
    const running: Running = { stdin: new PassThrough(), abort, exited, size: undefined, resizeWaiters };
    const stdout = fanOut((session) => session.stdout);
    const ctx: ExecContext = {
      argv: this.#argv,
      ...this.#identity,
      user: 'root',
      stdin: running.stdin,
      stdout,
      stderr: this.#identity.tty ? stdout : fanOut((session) => session.stderr),
      get terminalSize() {
        return running.size;
      },
      nextResize: () => (abort.signal.aborted ? Promise.resolve(undefined) : new Promise((resolve) => resizeWaiters.add(resolve))),
      signal: abort.signal,
      exit: (code) => exit(code),
      builtin: () => runBuiltinCommand(ctx),
    };
    Promise.resolve(this.#run(ctx)).then(
      (code) => exit(typeof code === 'number' ? code : 0),
      () => exit(1),
    );
    void exited.then(() => {
      if (this.#running === running) this.#running = undefined;
    });
    this.#running = running;
    return running;
  }

  #resize(running: Running, size: TerminalSize): void {
    running.size = size;
    for (const waiter of running.resizeWaiters) waiter(size);
    running.resizeWaiters.clear();
  }

  async #followResizes(running: Running, session: ExecContext): Promise<void> {
    // The latest size, not the awaited one: two resizes in one read (kubectl attach sends size+1,
    // then the size, to make the program redraw) wake this loop once.
    for (let size = await session.nextResize(); size && this.#running === running; size = await session.nextResize()) {
      this.#resize(running, session.terminalSize ?? size);
    }
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  return signal.aborted ? Promise.resolve() : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
