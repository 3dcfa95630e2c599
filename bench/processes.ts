/** The bench's child processes: each party (upstreams, each proxy) runs in one of its own, ended with the runner. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((child) => child.kill('SIGTERM')));

/** Starts a child and resolves with what `parse` finds in its first matching stdout line. */
export function started<T>(child: ChildProcess, parse: (line: string) => T | undefined): Promise<T> {
  children.push(child);
  return new Promise<T>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const value = parse(line);
      if (value !== undefined) resolve(value);
    });
    child.once('exit', (code) => reject(new Error(`a bench process exited with ${code}`)));
  });
}

/** Runs a script of bench/ from source, with `args` for Node (`--cpu-prof`, ...). */
export function node(script: string, extraEnv: Record<string, string>, args: string[] = []): ChildProcess {
  return spawn(process.execPath, [...args, '--conditions=kcp-source', new URL(script, import.meta.url).pathname], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...extraEnv },
  });
}

/** The upstreams (bench/fake-cluster.ts), started. */
export function startUpstreams(): Promise<{ url: string; ca: string; token: string; firehose: string }> {
  return started(node('./fake-cluster.ts', {}), (line) => JSON.parse(line) as { url: string; ca: string; token: string; firehose: string });
}

/** `--cpu-prof` arguments writing `<name>.cpuprofile` to bench/profiles/. */
export function profileArgs(name: string): string[] {
  return ['--cpu-prof', `--cpu-prof-dir=${new URL('./profiles', import.meta.url).pathname}`, `--cpu-prof-name=${name}.cpuprofile`];
}

/** The median of some figures. */
export const median = (values: number[]) => (values.length === 0 ? NaN : [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!);
