import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './servers.ts';

/** The `redis-server` executable on the PATH, or `undefined` when it is not installed. */
export const redisServerPath: string | undefined = (process.env.PATH ?? '')
  .split(delimiter)
  .map((dir) => join(dir, 'redis-server'))
  .find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

/**
 * Why the Redis tests are skipped, or `undefined` when they run. CI installs redis-server, so there
 * a missing one fails the suite instead of hiding behind a skip.
 */
export function redisSkipReason(): string | undefined {
  if (redisServerPath) return undefined;
  if (process.env.CI) throw new Error('redis-server is not installed, and CI must run the Redis tests');
  return 'redis-server is not installed (apt-get install redis-server)';
}

/** A `redis-server` on a loopback port, in a temporary folder, persisting nothing. */
export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Stops the server (an outage); `start()` brings it back, empty, on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /**
   * Freezes the server (SIGSTOP): connections stay open and nothing answers, as with a hung Redis;
   * `resume()` thaws it with its data intact.
   */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Stops the server for good and removes its folder. */
  close(): Promise<void>;
}

/** Resolves once the server accepts connections; rejects with its output when it exits first. */
function launch(executable: string, port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    executable,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', ''],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        child.off('exit', exited);
        // Keep draining the pipes: a full pipe would block the server's logging.
        child.stdout.resume();
        child.stderr.resume();
        resolve(child);
      }
    };
    const exited = (code: number | null) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`));
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('exit', exited);
    child.once('error', reject);
  });
}

/** Starts `redis-server` on a free loopback port (Redis has no `--port 0`, so a port is probed first). */
export async function startRedisServer(): Promise<RedisServer> {
  const executable = redisServerPath;
  if (!executable) throw new Error('redis-server is not installed');
  const dir = await mkdtemp(join(tmpdir(), 'kcp-redis-'));
  let child: ChildProcess | undefined;
  let port = 0;
  // Another process may take the probed port before Redis binds it.
  for (let attempt = 1; !child; attempt++) {
    port = await freePort();
    try {
      child = await launch(executable, port, dir);
    } catch (error) {
      if (attempt === 5) throw error;
    }
  }

  async function stop(): Promise<void> {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  }

  function signal(name: 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    if (!child) return Promise.reject(new Error('redis-server is not running'));
    child.kill(name);
    return Promise.resolve();
  }

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    async start() {
      if (child) throw new Error('redis-server is already running');
      child = await launch(executable, port, dir);
    },
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
