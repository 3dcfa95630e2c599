/** BENCHMARKS.md from the medians of a bench run: the table, then each goal of the forwarder as a ratio. */

/** Medians of one setup over the rounds. */
export interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  /** Errors, timeouts and non-2xx answers over all rounds. */
  failures: number;
  /** CPU µs of the proxy's process per request; `undefined` for direct. */
  cpu: number | undefined;
  /** Exec stream MiB/s, cluster to client (stdout) and client to cluster (stdin). */
  out: number;
  in: number;
  /** The proxy's CPU ms per MiB of each stream; `undefined` for direct. */
  cpuOut: number | undefined;
  cpuIn: number | undefined;
}

export interface Report {
  rows: Row[];
  /** `files`: the open-files limit that caps the sessions the proxy can hold. */
  idle: { perSession: number; opened: number; wanted: number; files: number };
  /** `slope`: RSS bytes per MiB streamed in the steady state, to extrapolate to 1 GiB. */
  log: { growth: number; seconds: number; mib: number; rate: number; slope: number };
  machine: string;
  method: { seconds: number; rounds: number; connections: number; streamMiB: number; loader: 'wrk' | 'autocannon' };
}

const KiB = 1024;
const MiB = 1024 * 1024;

function goal(label: string, value: number, wanted: number, atMost = false, unit = 'x'): string {
  const met = atMost ? value <= wanted : value >= wanted;
  return `| ${label} | ${value.toFixed(2)}${unit} | ${atMost ? '<=' : '>='} ${wanted}${unit} | ${met ? 'met' : '**missed**'} |`;
}

export function report({ rows, idle, log, machine, method }: Report): string {
  const find = (prefix: string) => rows.find((r) => r.name.startsWith(prefix));
  const direct = find('direct')!;
  // The faster form of bare http-proxy-middleware: the goals compare with its best.
  const bare = rows.filter((r) => r.name.startsWith('bare')).reduce((a, b) => (b.rps > a.rps ? b : a));
  const cluster = find("createClusterProxy, undici, 'cluster'")!;
  const user = find("createClusterProxy, undici, 'user'")!;
  const observed = find("createClusterProxy, undici, 'cluster', metrics")!;
  const kubectl = find('kubectl');
  const floor = find('minimal undici forwarder');
  const http2 = find("createClusterProxy, undici, 'cluster', http2");
  // A longer log adds what the steady state's trend adds, never less than nothing.
  const extrapolated = log.growth + Math.max(0, log.slope) * (1024 - log.mib);
  const cell = (n: number | undefined, digits = 0) => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits));
  const table = [
    '| setup | requests/s | p50 ms | p99 ms | failures | proxy CPU µs/request | exec stdout MiB/s | exec stdin MiB/s | proxy CPU ms/MiB stdout / stdin |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.name} | ${cell(r.rps)} | ${r.p50} | ${r.p99} | ${r.failures} | ${cell(r.cpu)} | ${cell(r.out)} | ${cell(r.in)} | ${cell(r.cpuOut, 1)} / ${cell(r.cpuIn, 1)} |`),
  ];
  const goals = [
    `| goal (undici engine; bare = ${bare.name}) | measured | wanted | |`,
    '| --- | ---: | ---: | --- |',
    goal("requests/s vs bare http-proxy-middleware, 'cluster'", cluster.rps / bare.rps, 2.0),
    goal("requests/s vs bare http-proxy-middleware, 'user'", user.rps / bare.rps, 1.8),
    goal("p99 vs bare http-proxy-middleware, 'cluster'", cluster.p99 / bare.p99, 1.0, true),
    ...(kubectl ? [goal("requests/s vs kubectl proxy, 'cluster'", cluster.rps / kubectl.rps, 2.5)] : []),
    goal("CPU per request vs bare http-proxy-middleware, 'cluster'", cluster.cpu! / bare.cpu!, 0.5, true),
    goal("requests/s with metrics + audit + policy vs without, 'cluster'", observed.rps / cluster.rps, 0.9),
    goal('exec stdout stream vs direct', cluster.out / direct.out, 0.95),
    goal('exec stdin stream vs direct', cluster.in / direct.in, 0.95),
    ...(kubectl ? [goal('exec stdout stream vs kubectl proxy', cluster.out / kubectl.out, 1.0), goal('exec stdin stream vs kubectl proxy', cluster.in / kubectl.in, 1.0)] : []),
    goal('RSS per idle upgraded connection', idle.perSession / KiB, 40, true, ' KiB'),
    goal(`RSS growth following a ${log.mib} MiB log at ${log.rate} MiB/s`, log.growth / MiB, 32, true, ' MiB'),
    ...(log.mib < 1024 ? [goal('RSS growth for a 1 GiB log, extrapolated', extrapolated / MiB, 32, true, ' MiB')] : []),
  ];
  return `# Benchmarks

Produced by \`npm run bench\` (bench/run.ts) on ${new Date().toISOString().slice(0, 10)}: ${machine}.
Every party runs in its own process on loopback: the upstreams (the fake API server over TLS, and
a plain-HTTP firehose for the followed log), each proxy, kubectl proxy, and the load generator.
${method.rounds} rounds alternate between the setups (a rotated order each round); each figure is
the median over the rounds. HTTP: ${method.loader === 'wrk' ? 'wrk (one thread)' : 'autocannon (in the runner)'}, ${method.connections} connections, ${method.seconds} s per
round, \`GET /api/v1/namespaces/default/pods/web-bench-1\` (a ~1 KB JSON pod), after a 2 s warm-up.
Exec streams: ${method.streamMiB} MiB over a \`v4.channel.k8s.io\` WebSocket, stdout (\`bytes N\`) and
stdin (the fake's \`sink N\`). The proxies serve plain HTTP to the client and speak TLS to the
fake; "direct" pays the client-side TLS itself. Proxy CPU per request is user + system time of
the proxy's process (from /proc, kubectl's child included) divided by the requests it served.

${table.join('\n')}

For createClusterProxy (undici, 'cluster') alone: ${idle.opened} of ${idle.wanted} idle exec sessions
open cost **${(idle.perSession / KiB).toFixed(1)} KiB** of proxy RSS each (two sockets per session, RSS
read after a full garbage collection)${idle.opened < idle.wanted ? `; no more than ${idle.opened} fit: the open-files limit is ${idle.files} (hard, not raisable here) and the proxy holds two descriptors per session` : ''}.
Following a ${log.mib} MiB log through it to a reader taking ${log.rate} MiB/s (${log.seconds.toFixed(0)} s)
grew its RSS by at most **${(log.growth / MiB).toFixed(1)} MiB**${
    log.mib < 1024
      ? `; over the second half of the stream RSS moved ${(log.slope / KiB).toFixed(1)} KiB per MiB streamed, so a 1 GiB log
(\`BENCH_LOG_FULL=1\`, about 17 minutes) would grow it by about **${(extrapolated / MiB).toFixed(1)} MiB** (the peak plus that
trend over the remaining ${1024 - log.mib} MiB, a negative trend counted as none)`
      : ''
  }.

${goals.join('\n')}

${
    floor
      ? `Against the minimal undici forwarder (no pipeline at all), createClusterProxy (undici, 'cluster') runs at
${(cluster.rps / floor.rps).toFixed(2)}x its requests/s and ${(cluster.cpu! / floor.cpu!).toFixed(2)}x its CPU per request: what routing, the checks,
the identity and the hooks cost on top of the engine.
`
      : ''
  }${
    http2
      ? `Reaching the fake over HTTP/2 (\`http2: true\`, every request on one TLS connection) runs at
${(http2.rps / cluster.rps).toFixed(2)}x the requests/s of HTTP/1.1 (one connection per request in flight) and ${(http2.cpu! / cluster.cpu!).toFixed(2)}x its CPU
per request.
`
      : ''
  }
On 2 shared cores the load generator, the proxy and the fake compete for CPU: the ratios of one
run matter more than the absolute figures, and runs vary by about ±10% in requests/s. CPU per
request is the steadier measure of what a proxy costs.
`;
}
