/**
 * The upstreams of the benchmark, in a process of their own; prints their addresses as one JSON
 * line. The fake cluster (TLS) with one command added to the built-ins, `sink N`, which reads N
 * bytes of stdin and then prints `done` (the stdin direction of an exec stream); and a firehose, a
 * plain HTTP server whose `/log?mib=N` answers N MiB as fast as its reader takes them (a followed
 * log faster than any fake pod writes one).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFakeCluster } from 'kube-cluster-proxy/testing';

const token = 'bench-token';
const fake = await startFakeCluster({
  name: 'bench',
  tokens: { [token]: 'bench' },
  // A short request log: the benchmark sends hundreds of thousands of requests.
  requestLogLimit: 100,
  exec: async (ctx) => {
    if (ctx.argv[0] !== 'sink') return ctx.builtin();
    const want = Number(ctx.argv[1]);
    let got = 0;
    for await (const chunk of ctx.stdin) {
      got += (chunk as Buffer).length;
      if (got >= want) break;
    }
    await new Promise<void>((resolve) => ctx.stdout.write(`done ${got}\n`, () => resolve()));
    return 0;
  },
});

const MiB = Buffer.alloc(1024 * 1024, 'l');
const firehose = createServer((req, res) => {
  const total = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('mib') ?? 0);
  res.writeHead(200, { 'content-type': 'text/plain' });
  let sent = 0;
  const next = (): void => {
    while (sent < total) {
      sent++;
      if (!res.write(MiB)) return void res.once('drain', next);
    }
    res.end();
  };
  next();
});
await new Promise<void>((resolve) => firehose.listen(0, '127.0.0.1', resolve));

console.log(JSON.stringify({ url: fake.url, ca: fake.ca, token, firehose: `http://127.0.0.1:${(firehose.address() as AddressInfo).port}` }));
process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)));
