import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** How long a replica may take to print "ready" (it compiles from source on a busy machine). */
const START_TIMEOUT_MS = 20_000;

/**
 * Starts one replica of test/fixtures/replica/server.ts in its own process, configured by `env`
 * (PORT, REPLICA and what the fixture reads); resolves once it listens. Everything it prints goes
 * to `log`, so that a test can check that no token reached the logs.
 */
export function startReplica(env: Record<string, string>, log: (text: string) => void): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--conditions=kcp-source', 'test/fixtures/replica/server.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.on('data', (chunk: Buffer) => log(chunk.toString()));
  return new Promise<ChildProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`replica ${env.REPLICA} did not start within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    createInterface({ input: child.stdout }).on('line', (line) => {
      log(`${line}\n`);
      if (line.startsWith('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`replica ${env.REPLICA} exited with ${code}`));
    });
  });
}

/** Sends `signal` to a replica and resolves with its exit code once it exited (`null`: killed by the signal). */
export async function stopReplica(child: ChildProcess, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(signal);
  return exited;
}

/**
 * The environment every replica of test/fixtures/replica/server.ts shares: one Redis, one OIDC
 * provider, one fake cluster and the public address of the load balancer in front of them.
 */
export function replicaEnvironment(parts: {
  redisUrl: string;
  idp: { issuer: string; clientId: string; clientSecret: string };
  cluster: { url: string; ca: string };
  base: string;
}): Record<string, string> {
  return {
    REDIS_URL: parts.redisUrl,
    TOKEN_KEY: 'token-encryption-key-of-32-chars-at-least',
    ISSUER: parts.idp.issuer,
    CLIENT_ID: parts.idp.clientId,
    CLIENT_SECRET: parts.idp.clientSecret,
    REDIRECT_URI: `${parts.base}/auth/callback`,
    SESSION_SECRET: 'the-same-session-secret-on-every-replica',
    CLUSTER_URL: parts.cluster.url,
    CLUSTER_CA: parts.cluster.ca,
    PUBLIC_URL: parts.base,
  };
}
