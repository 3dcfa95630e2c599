/** The fake cluster of the benchmark, in a process of its own. Prints its address as one JSON line. */
import { startFakeCluster } from 'kube-cluster-proxy/testing';

const token = 'bench-token';
const fake = await startFakeCluster({ name: 'bench', tokens: { [token]: 'bench' } });
console.log(JSON.stringify({ url: fake.url, ca: fake.ca, token }));
process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)));
