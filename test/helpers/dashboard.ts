/**
 * Runs the example dashboard (examples/dashboard/server.ts) as `npm start` does, on free ports, and
 * writes kubeconfigs for it, for the dashboard's tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface RunningDashboard {
  readonly base: string;
  readonly child: ChildProcess;
  /** The temporary CA file the dashboard printed. */
  readonly caFile: string;
  /** The dashboard process's pid (from the CA file's name, so also right behind `npm start`). */
  readonly pid: number;
  output(): string;
  /**
   * Sends `signal` (to the whole process group with `group`, as Ctrl-C in a terminal does) and
   * waits for the spawned process to exit; resolves with its exit code.
   */
  stop(signal?: NodeJS.Signals, options?: { group?: boolean }): Promise<number | null>;
}

/** The command that runs the dashboard: the server itself, or `npm start` (npm forwards signals). */
export type DashboardCommand = 'node' | 'npm';

function environment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const { KUBECONFIG: _ignored, ...env } = process.env;
  return { ...env, PORT: '0', TLS_PORT: '0', ...extra };
}

/** Spawns the dashboard without waiting for anything; for a dashboard that is expected to fail. */
export function spawnDashboard(args: string[] = [], env: Record<string, string> = {}, command: DashboardCommand = 'node'): ChildProcess {
  const [file, argv] =
    command === 'npm'
      ? ['npm', ['start', '--silent', ...(args.length > 0 ? ['--', ...args] : [])]]
      : [process.execPath, ['--conditions=kcp-source', 'examples/dashboard/server.ts', ...args]];
  // npm in its own process group, so that a test can send SIGINT to the group as a terminal's Ctrl-C does.
  return spawn(file, argv, { env: environment(env), stdio: ['ignore', 'pipe', 'pipe'], detached: command === 'npm' });
}

/** Starts the dashboard and waits (at most 20 s) for the URL it prints. */
export async function startDashboard(args: string[] = [], options: { env?: Record<string, string>; command?: DashboardCommand } = {}): Promise<RunningDashboard> {
  const child = spawnDashboard(args, options.env, options.command);
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = await new Promise<{ base: string; caFile: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the dashboard did not start within 20 s:\n${output}`)), 20_000);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      output += `${line}\n`;
      const match = /example dashboard: (http:\/\/\S+?)\/ .*CA in (\S+)\)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve({ base: match[1]!, caFile: match[2]! });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the dashboard exited with ${code}:\n${output}`));
    });
  });
  const pid = Number(/-(\d+)\.crt$/.exec(started.caFile)?.[1]);
  return {
    ...started,
    child,
    pid,
    output: () => output,
    async stop(signal = 'SIGTERM', { group = false } = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        if (group) process.kill(-child.pid!, signal);
        else child.kill(signal);
      }
      return exited;
    },
  };
}

/** Whether a process is still alive (signal 0 only checks). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface KubeconfigContext {
  readonly name: string;
  readonly server: string;
  readonly ca: string;
  /** The user's token; without one the context has no credentials and its cluster needs the user's. */
  readonly token?: string;
}

/** Writes a kubeconfig with these contexts into a new temporary folder; `remove()` deletes it. */
export async function writeKubeconfig(contexts: KubeconfigContext[]): Promise<{ file: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'kcp-dash-'));
  const file = join(dir, 'config');
  await writeFile(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: contexts.map((c) => ({ name: c.name, cluster: { server: c.server, 'certificate-authority-data': Buffer.from(c.ca).toString('base64') } })),
      users: contexts.map((c) => ({ name: c.name, user: c.token ? { token: c.token } : {} })),
      contexts: contexts.map((c) => ({ name: c.name, context: { cluster: c.name, user: c.name } })),
      'current-context': contexts[0]?.name,
    }),
  );
  return { file, remove: () => rm(dir, { recursive: true, force: true }) };
}
