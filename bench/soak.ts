/**
 * `npm run soak`: a leak check, not a test. The proxy runs in this process; the fake cluster in its
 * own. Runs N exec cycles over WebSocket (open, run `echo`, close) and N watches aborted by the
 * client after their first event, then reports open file descriptors, heap (after a full GC) and
 * RSS before and after. A proxy that leaks sockets, listeners or exchanges shows it here.
 *
 * Two rounds: memory that grows in the first and stays in the second is a high-water mark (buffers,
 * the allocator), memory that grows again is a leak.
 *
 * Options (environment): SOAK_EXEC (default 5000), SOAK_WATCH (default 2000), SOAK_CONCURRENCY
 * (default 32).
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import WebSocket from 'ws';
import { createClusterProxy } from 'kube-cluster-proxy';

const EXECS = Number(process.env.SOAK_EXEC ?? 5000);
const WATCHES = Number(process.env.SOAK_WATCH ?? 2000);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 32);

const child = spawn(process.execPath, ['--conditions=kcp-source', new URL('./fake-cluster.ts', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] });
const fake = await new Promise<{ url: string; ca: string; token: string }>((resolve) =>
  createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line) as { url: string; ca: string; token: string })),
);

const proxy = createClusterProxy({ clusters: [{ name: 'bench', server: fake.url, ca: fake.ca, credentials: { token: fake.token } }] });
const server = createServer((req, res) => proxy(req, res));
proxy.attach(server);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `127.0.0.1:${(server.address() as AddressInfo).port}/clusters/bench`;

interface Sample {
  fds: number;
  heapMiB: number;
  rssMiB: number;
}

async function sample(): Promise<Sample> {
  // Let closing sockets finish before counting.
  await delay(500);
  (globalThis as { gc?: () => void }).gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  return { fds: readdirSync('/proc/self/fd').length, heapMiB: heapUsed / 2 ** 20, rssMiB: rss / 2 ** 20 };
}

async function times(count: number, run: () => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < count) await run();
    }),
  );
}

function execOnce(): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${base}/api/v1/namespaces/default/pods/web-bench-1/exec?command=echo&command=hi&stdout=true`, ['v5.channel.k8s.io']);
    ws.on('close', () => resolve());
    ws.on('error', reject);
  });
}

function abortedWatch(): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(`http://${base}/api/v1/namespaces/default/pods?watch=1`, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', (error) => (req.destroyed ? resolve() : reject(error)));
    req.end();
  });
}

const before = await sample();
const started = performance.now();
await times(EXECS, execOnce);
await times(WATCHES, abortedWatch);
const seconds = (performance.now() - started) / 1000;
const middle = await sample();
await times(EXECS, execOnce);
await times(WATCHES, abortedWatch);
const after = await sample();

const f = (value: number, unit: string) => `${value.toFixed(unit === '' ? 0 : 1)}${unit}`;
const row = (name: string, unit: string, a: number, b: number, c: number) =>
  `| ${name} | ${f(a, unit)} | ${f(b, unit)} | ${f(c, unit)} | ${f(b - a, unit)} | ${f(c - b, unit)} |`;
console.log(
  `Soak: two rounds of ${EXECS} exec cycles and ${WATCHES} aborted watches, ${CONCURRENCY} at a time; the first round took ${seconds.toFixed(1)} s ` +
    `(Node ${process.version}${(globalThis as { gc?: unknown }).gc ? ', heap after a full GC' : ''})`,
);
console.log('| measure | before | after round 1 | after round 2 | growth in round 1 | growth in round 2 |\n| --- | ---: | ---: | ---: | ---: | ---: |');
console.log(row('open file descriptors', '', before.fds, middle.fds, after.fds));
console.log(row('heap used', ' MiB', before.heapMiB, middle.heapMiB, after.heapMiB));
console.log(row('RSS', ' MiB', before.rssMiB, middle.rssMiB, after.rssMiB));

await proxy.close();
server.close();
child.kill('SIGTERM');
