/**
 * What the benchmark measures, one function per figure: process CPU and RSS (from /proc, for
 * Node and kubectl alike), HTTP load (autocannon), exec stream throughput each way, idle upgraded
 * sessions and a followed log read slowly.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { request } from 'node:http';
import autocannon from 'autocannon';
import WebSocket from 'ws';

const MiB = 1024 * 1024;
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICK_US = 10_000;
/** The HTTP load generator: wrk when on the PATH, else autocannon; BENCH_LOADER names one. */
export const LOADER: 'wrk' | 'autocannon' = (process.env.BENCH_LOADER as 'wrk' | 'autocannon' | undefined) ?? (hasWrkOnPath() ? 'wrk' : 'autocannon');
export const POD_PATH = '/api/v1/namespaces/default/pods/web-bench-1';

/** Whether wrk is on the PATH: C, one thread, it leaves the cores to the parties measured. */
function hasWrkOnPath(): boolean {
  return spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
}

function descendants(pid: number): number[] {
  const all = [pid];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      for (const child of children ? children.split(' ') : []) all.push(...descendants(Number(child)));
    }
  } catch {
    // the process ended
  }
  return all;
}

/** CPU time (user + system, µs) of a process and its descendants (kubectl's dispatcher runs a child). */
export function cpuMicros(pid: number): number {
  let total = 0;
  for (const p of descendants(pid)) {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
      total += (Number(fields[11]) + Number(fields[12])) * TICK_US;
    } catch {
      // gone
    }
  }
  return total;
}

/** Resident set size (bytes) of a process and its descendants. */
export function rssBytes(pid: number): number {
  let total = 0;
  for (const p of descendants(pid)) {
    try {
      total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    } catch {
      // gone
    }
  }
  return total;
}

export interface HttpResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** CPU µs the proxy's process spent per request; `undefined` for the direct setup. */
  cpuPerRequest: number | undefined;
}

/** A wrk duration (`850.00us`, `2.01ms`, `1.20s`, `2.00m`) in milliseconds. */
function wrkMillis(text: string | undefined): number {
  const [, value, unit] = /^([\d.]+)(us|ms|s|m)$/.exec(text ?? '') ?? [];
  if (value === undefined) return NaN;
  return Number(value) * { us: 0.001, ms: 1, s: 1000, m: 60_000 }[unit as 'us' | 'ms' | 's' | 'm'];
}


async function wrk(url: string, headers: Record<string, string>, seconds: number, connections: number) {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), url];
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await new Promise((resolve) => child.once('close', resolve));
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    total: Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN),
    p50: wrkMillis(/50%\s+(\S+)/.exec(out)?.[1]),
    p99: wrkMillis(/99%\s+(\S+)/.exec(out)?.[1]),
    errors: socket ? socket.slice(1).reduce((n, v) => n + Number(v), 0) : 0,
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
  };
}

async function autocannonLoad(url: string, headers: Record<string, string>, seconds: number, connections: number) {
  const result = await autocannon({ url, connections, duration: seconds, headers, pipelining: 1 });
  return {
    rps: result.requests.average,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/**
 * Small JSON GETs under `connections` concurrent connections for `seconds`: with wrk when it is on
 * the PATH (BENCH_LOADER=autocannon forces autocannon, which runs in this process and takes about a
 * core of the two the parties share).
 */
export async function load(url: string, headers: Record<string, string>, seconds: number, connections: number, pid: number | undefined): Promise<HttpResult> {
  const before = pid === undefined ? 0 : cpuMicros(pid);
  const { total, ...result } = await (LOADER === 'wrk' ? wrk : autocannonLoad)(url, headers, seconds, connections);
  const cpu = pid === undefined ? undefined : cpuMicros(pid) - before;
  return { ...result, cpuPerRequest: cpu === undefined ? undefined : cpu / total };
}

function execUrl(base: string, command: string[], stdin: boolean): string {
  const query = command.map((c) => `command=${encodeURIComponent(c)}`).join('&');
  return `${base.replace(/^http/, 'ws')}${POD_PATH}/exec?${query}&stdout=true${stdin ? '&stdin=true' : ''}`;
}

/** MiB/s of `bytes` stdout over an exec WebSocket (v4.channel.k8s.io), from open to close. */
export function streamOut(base: string, bytes: number, options: WebSocket.ClientOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(execUrl(base, ['bytes', String(bytes)], false), ['v4.channel.k8s.io'], options);
    let received = 0;
    let started = 0;
    ws.on('open', () => (started = performance.now()));
    ws.on('message', (data: Buffer) => {
      if (data[0] === 1) received += data.length - 1;
    });
    ws.on('close', () => {
      if (received !== bytes) reject(new Error(`received ${received} of ${bytes} bytes from ${base}`));
      else resolve(bytes / MiB / ((performance.now() - started) / 1000));
    });
    ws.on('error', reject);
  });
}

/** MiB/s of stdin sent over an exec WebSocket until the fake's `sink` confirms it read it all. */
export function streamIn(base: string, bytes: number, options: WebSocket.ClientOptions): Promise<number> {
  const frame = Buffer.alloc(64 * 1024 + 1, 's');
  frame[0] = 0; // channel 0: stdin
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(execUrl(base, ['sink', String(bytes)], true), ['v4.channel.k8s.io'], options);
    let started = 0;
    let output = '';
    ws.on('open', async () => {
      started = performance.now();
      let sent = 0;
      // Eight frames in flight at most: the socket's backpressure, not an unbounded queue.
      while (sent < bytes && ws.readyState === WebSocket.OPEN) {
        const batch: Promise<void>[] = [];
        for (let i = 0; i < 8 && sent < bytes; i++, sent += frame.length - 1) {
          batch.push(new Promise<void>((done, fail) => ws.send(frame, (error) => (error ? fail(error) : done()))));
        }
        await Promise.all(batch).catch(reject);
      }
    });
    ws.on('message', (data: Buffer) => {
      if (data[0] === 1) output += data.subarray(1).toString();
      if (output.includes('\n')) {
        resolve(bytes / MiB / ((performance.now() - started) / 1000));
        ws.close();
      }
    });
    ws.on('close', () => reject(new Error(`the sink on ${base} closed before confirming: ${output}`)));
    ws.on('error', reject);
  });
}

/** RSS of a bench proxy after a full garbage collection (proxies.ts collects on SIGUSR2). */
async function settledRss(pid: number): Promise<number> {
  process.kill(pid, 'SIGUSR2');
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  return rssBytes(pid);
}

/**
 * Opens `count` idle exec sessions (`sleep 3600`) through the proxy, 64 handshakes at a time, and
 * returns the proxy's RSS growth per session (bytes), each measured after a full collection.
 */
export async function idleSessions(base: string, count: number, pid: number): Promise<{ perSession: number; opened: number }> {
  const before = await settledRss(pid);
  const sockets: WebSocket[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      const ws = new WebSocket(execUrl(base, ['sleep', '3600'], false), ['v4.channel.k8s.io'], { perMessageDeflate: false });
      await new Promise<void>((resolve) => {
        ws.once('open', () => resolve());
        ws.once('error', () => resolve());
      });
      if (ws.readyState === WebSocket.OPEN) sockets.push(ws);
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  const after = await settledRss(pid);
  for (const ws of sockets) ws.terminate();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  return { perSession: (after - before) / Math.max(1, sockets.length), opened: sockets.length };
}

/** What a followed log cost the proxy: its peak RSS growth, and the trend that extrapolates it. */
export interface LogResult {
  /** Largest RSS growth (bytes) over the RSS before the stream. */
  growth: number;
  seconds: number;
  /**
   * RSS growth per MiB streamed over the second half of the stream (bytes per MiB, least squares):
   * what a longer log would add on top of `growth`; about 0 when memory is bounded.
   */
  slope: number;
}

function leastSquaresSlope(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx;
}

/**
 * Reads a followed log of `mib` MiB through the proxy at `rate` MiB/s while sampling the proxy's
 * RSS every 250 ms.
 */
export async function slowLog(url: string, mib: number, rate: number, pid: number): Promise<LogResult> {
  const before = await settledRss(pid);
  let peak = before;
  let received = 0;
  const samples: [number, number][] = [];
  const sampler = setInterval(() => {
    const rss = rssBytes(pid);
    peak = Math.max(peak, rss);
    samples.push([received / MiB, rss]);
  }, 250);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api/v1/namespaces/default/pods/log-1/log?follow=true&mib=${mib}`, { agent: false }, (res) => {
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        const ahead = received / MiB / rate - (performance.now() - started) / 1000;
        if (ahead > 0) {
          res.pause();
          setTimeout(() => res.resume(), ahead * 1000);
        }
      });
      res.on('end', () => {
        clearInterval(sampler);
        if (received !== mib * MiB) return reject(new Error(`read ${received} of ${mib} MiB`));
        // The first half holds the warm-up (buffers filling, the JIT); the second is the steady state.
        const slope = leastSquaresSlope(samples.slice(Math.floor(samples.length / 2)));
        resolve({ growth: peak - before, seconds: (performance.now() - started) / 1000, slope });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
