/**
 * The upstream of the dashboard storm, in a process of its own: the fake cluster (TLS) behind a
 * TCP relay that counts the bytes each way, so that "upstream bytes" is what crossed the wire to
 * the proxy (TLS included). The fake serves pods and, through a CustomResourceDefinition, the
 * `events.k8s.io/v1` events a dashboard lists. BENCH_STORM_LATENCY_MS (default 0) delays every
 * chunk the relay passes, each way, as a cluster across a network would. Prints `{ url, ca, token }` as one JSON line; reads
 * commands on stdin, one a line: `reset` (forget the counts), `stats` (print them as JSON).
 */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { startFakeCluster } from 'kube-cluster-proxy/testing';

const token = 'storm-token';
const pods = Array.from({ length: 30 }, (_, i) => ({ name: `web-${i}`, namespace: 'default', labels: { app: 'web' } }));
const fake = await startFakeCluster({ name: 'storm', tokens: { [token]: { user: 'dashboard', groups: ['system:masters'] } }, pods, requestLogLimit: 1_000_000 });
fake.addCrd({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'events.events.k8s.io' },
  spec: {
    group: 'events.k8s.io',
    scope: 'Namespaced',
    names: { plural: 'events', singular: 'event', kind: 'Event' },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
});
for (let i = 0; i < 50; i++) {
  fake.addObject({
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: `web-${i % 30}.${i}`, namespace: 'default' },
    regarding: { kind: 'Pod', name: `web-${i % 30}`, namespace: 'default' },
    reason: i % 2 ? 'Pulled' : 'Started',
    note: `Container image "registry.example/web:${i}" already present on machine`,
    type: 'Normal',
  });
}

const LATENCY_MS = Number(process.env.BENCH_STORM_LATENCY_MS ?? 0);
const bytes = { fromCluster: 0, toCluster: 0 };

/** Passes `from`'s bytes on to `to`, counted, each after LATENCY_MS (timers of one delay fire in order). */
function relayed(from: Socket, to: Socket, count: (n: number) => void): void {
  from.on('data', (chunk: Buffer) => {
    count(chunk.length);
    if (LATENCY_MS === 0) to.write(chunk);
    else setTimeout(() => to.write(chunk), LATENCY_MS);
  });
}
const relay = createServer((client) => {
  const server = connect(fake.port, '127.0.0.1');
  relayed(client, server, (n) => (bytes.toCluster += n));
  relayed(server, client, (n) => (bytes.fromCluster += n));
  const close = () => setTimeout(() => {
    client.destroy();
    server.destroy();
  }, LATENCY_MS);
  client.on('error', close).on('close', close);
  server.on('error', close).on('close', close);
});
await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', 1024, resolve));

console.log(JSON.stringify({ url: `https://127.0.0.1:${(relay.address() as AddressInfo).port}`, ca: fake.ca, token }));
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'reset') {
    fake.clearRequests();
    bytes.fromCluster = 0;
    bytes.toCluster = 0;
    console.log(JSON.stringify({ reset: true }));
  } else if (line === 'stats') {
    const requests = fake.requests.length;
    const watches = fake.requests.filter((r) => /[?&]watch=(1|true)/.test(r.path)).length;
    console.log(JSON.stringify({ stats: { requests, watches, ...bytes } }));
  }
});
process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)));
