import WebSocket from 'ws';
import { refusal, type KubeStatus } from './client-answer.ts';
import { CLOSE, ERROR, STDERR, STDIN, STDOUT } from './channel-protocol.ts';

/** Options of {@link TestClient.exec}. */
export interface ExecOptions {
  /**
   * Sent to the command's stdin, which is then closed (a `[255, 0]` message, which only
   * `v5.channel.k8s.io` has: on a v4 server, a command that reads stdin to its end never ends).
   * Default: no stdin.
   */
  stdin?: string | Buffer;
  /** The container to run in. Default: none, which the server accepts for a pod with one container. */
  container?: string;
  /** Ask for a terminal (`tty=true`): stderr is then merged into stdout, as in a terminal. Default: `false`. */
  tty?: boolean;
}

/** What an exec session produced, once the command ended. */
export interface ExecResult {
  /** Everything the command wrote to stdout (with `tty`, stderr too), decoded as UTF-8. */
  readonly stdout: string;
  /** Everything written to stderr, decoded as UTF-8 (empty with `tty`). */
  readonly stderr: string;
  /** The Status sent on the error channel: `{ status: 'Success' }` or a `Failure` (`NonZeroExitCode`, ...). */
  readonly status: KubeStatus;
  /** The exit code: `0` on Success, the `ExitCode` cause of a `NonZeroExitCode`; `undefined` for other failures. */
  readonly exitCode: number | undefined;
  /** The subprotocol the server chose: `v5.channel.k8s.io` or `v4.channel.k8s.io`. */
  readonly protocol: string;
}

/** Where and how to open one exec WebSocket (built by {@link testClient}). */
export interface ExecTarget {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Subprotocols offered before the channel protocols (the bearer-token entry). */
  readonly extraProtocols: readonly string[];
  readonly ca: string | Buffer | undefined;
}

const CHANNEL_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

/** The exec URL's query, as kubectl builds it. */
export function execQuery(command: readonly string[], options: ExecOptions): URLSearchParams {
  const query = new URLSearchParams();
  for (const part of command) query.append('command', part);
  if (options.container !== undefined) query.set('container', options.container);
  if (options.stdin !== undefined) query.set('stdin', 'true');
  query.set('stdout', 'true');
  // kubectl asks for no stderr with a terminal, which merges it into stdout.
  query.set('stderr', options.tty ? 'false' : 'true');
  if (options.tty) query.set('tty', 'true');
  return query;
}

/** The exit code a channel-3 Status stands for; exported for its tests. */
export function exitCodeOf(status: KubeStatus): number | undefined {
  if (status.status === 'Success') return 0;
  if (status.reason !== 'NonZeroExitCode') return undefined;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return Number.isInteger(code) ? code : undefined;
}

function parseStatus(text: string): KubeStatus {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) return parsed;
  } catch {
    // Pre-v4 servers send plain text; the status is then a Failure with that message.
  }
  return { status: 'Failure', message: text };
}

/**
 * Runs one command over the Kubernetes channel protocol and collects its output. Rejects with a
 * {@link TestClientError} when the upgrade is refused, and with an Error when the connection ends
 * before the command's status arrived.
 */
export function runExec(target: ExecTarget, what: string, options: ExecOptions): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(target.url, [...target.extraProtocols, ...CHANNEL_PROTOCOLS], {
      headers: { ...target.headers },
      perMessageDeflate: false,
      ...(target.ca === undefined ? {} : { ca: target.ca }),
    });
    const output = new Map<number, Buffer[]>([[STDOUT, []], [STDERR, []]]);
    let statusText: string | undefined;
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      reject(error);
      ws.terminate();
    };
    ws.on('unexpected-response', (_req, res) => {
      settled = true;
      refusal(`the exec upgrade of ${what}`, res)
        .then(reject, reject)
        .finally(() => ws.terminate());
    });
    ws.on('open', () => {
      if (options.stdin === undefined) return;
      ws.send(Buffer.concat([Buffer.from([STDIN]), Buffer.from(options.stdin)]));
      if (ws.protocol === 'v5.channel.k8s.io') ws.send(Buffer.from([CLOSE, STDIN]));
    });
    ws.on('message', (data: Buffer) => {
      const channel = data[0];
      const payload = data.subarray(1);
      if (channel === ERROR) statusText = (statusText ?? '') + payload.toString('utf8');
      else if (channel !== undefined) output.get(channel)?.push(payload);
    });
    ws.on('error', (error) => fail(new Error(`exec ${what}: ${error.message}`, { cause: error })));
    ws.on('close', (code) => {
      if (settled) return;
      settled = true;
      // The connected signal is an empty message on the error channel when there is no stdout.
      if (statusText === undefined || statusText === '') {
        reject(new Error(`exec ${what}: the connection closed (code ${code}) before the command's exit status arrived`));
        return;
      }
      const status = parseStatus(statusText);
      const text = (channel: number) => Buffer.concat(output.get(channel) ?? []).toString('utf8');
      resolve({ stdout: text(STDOUT), stderr: text(STDERR), status, exitCode: exitCodeOf(status), protocol: ws.protocol });
    });
  });
}
