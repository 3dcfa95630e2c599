/**
 * The upstream of the dashboard storm, in a process of its own: the fake cluster (TLS) behind a
 * TCP relay that counts the bytes each way, so that "upstream bytes" is what crossed the wire to
 * the proxy (TLS included). The fake serves pods and, through a CustomResourceDefinition, the
 * `events.k8s.io/v1` events a dashboard lists. Prints `{ url, ca, token }` as one JSON line; reads
 * commands on stdin, one a line: `reset` (forget the counts), `stats` (print them as JSON).
 */
import { createServer, connect, type AddressInfo } from 'node:net';
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

const bytes = { fromCluster: 0, toCluster: 0 };
const relay = createServer((client) => {
  const server = connect(fake.port, '127.0.0.1');
  client.on('data', (chunk: Buffer) => (bytes.toCluster += chunk.length));
  server.on('data', (chunk: Buffer) => (bytes.fromCluster += chunk.length));
  client.pipe(server).pipe(client);
  const close = () => {
    client.destroy();
    server.destroy();
  };
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
