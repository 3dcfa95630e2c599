/** The fake cluster of the benchmark, in a process of its own. Prints its address as one JSON line. */
import { startFakeCluster } from 'kube-cluster-proxy/testing';

const token = 'bench-token';
// A short request log: the benchmark sends hundreds of thousands of requests.
const fake = await startFakeCluster({ name: 'bench', tokens: { [token]: 'bench' }, requestLogLimit: 100 });
console.log(JSON.stringify({ url: fake.url, ca: fake.ca, token }));
process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)));
