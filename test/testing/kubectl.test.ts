import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';

const kubectlMissing = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status !== 0;

let fake: FakeCluster;
let home: string;

function writeKubeconfig(user: Record<string, string>, fileName = `config-${Math.random().toString(36).slice(2)}`): string {
  const path = join(home, fileName);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'fake', cluster: { server: fake.url, 'certificate-authority-data': Buffer.from(fake.ca).toString('base64') } }],
    users: [{ name: 'user', user }],
    contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'user', namespace: 'default' } }],
    'current-context': 'fake',
  };
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/** Runs kubectl with its own kubeconfig and HOME (for its discovery cache). */
function kubectl(args: string[], options: { input?: string; kubeconfig?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', args, {
      env: { PATH: process.env.PATH, HOME: home, KUBECONFIG: options.kubeconfig ?? join(home, 'config') },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

describe.skipIf(kubectlMissing)('kubectl against the fake cluster (skipped: kubectl is not installed)', () => {
  beforeAll(async () => {
    fake = await startFakeCluster({
      name: 'kube',
      clientCertificates: true,
      tokens: { 'admin-token': { user: 'admin', groups: ['system:masters'] } },
    });
    home = mkdtempSync(join(tmpdir(), 'kubectl-fake-'));
    writeKubeconfig({ token: 'admin-token' }, 'config');
  });
  afterAll(async () => {
    await fake.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('gets pods as a server-side printed table', async () => {
    const { code, stdout } = await kubectl(['get', 'pods']);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]?.split(/\s+/)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(lines.slice(1).map((line) => line.split(/\s+/).slice(0, 4))).toEqual([
      ['web-kube-1', '1/1', 'Running', '0'],
      ['web-kube-2', '1/1', 'Running', '0'],
      ['worker-kube-1', '1/1', 'Running', '0'],
    ]);
    expect(fake.requests.some((request) => request.path.startsWith('/api/v1/namespaces/default/pods') && String(request.headers.accept).includes('as=Table'))).toBe(true);
  });

  it('prints logs', async () => {
    const { code, stdout } = await kubectl(['logs', 'worker-kube-1', '--tail=1']);
    expect(code).toBe(0);
    expect(stdout).toBe('processed job 1\n');
  });

  it('execs over WebSocket v5 and reports exit codes', async () => {
    fake.clearRequests();
    const { code, stdout } = await kubectl(['exec', 'web-kube-1', '--', 'echo', 'hello']);
    expect({ code, stdout }).toEqual({ code: 0, stdout: 'hello\n' });
    const upgrade = fake.requests.find((request) => request.upgrade);
    expect(upgrade?.headers['sec-websocket-protocol']).toBe('v5.channel.k8s.io');
    expect(upgrade?.path).toContain('/pods/web-kube-1/exec?command=echo&command=hello');

    const failed = await kubectl(['exec', 'web-kube-1', '--', 'sh', '-c', 'exit 3']);
    expect(failed.code).toBe(3);
    expect(failed.stderr).toContain('command terminated with exit code 3');
  });

  it('passes stdin through exec -i', async () => {
    const { code, stdout } = await kubectl(['exec', '-i', 'web-kube-2', '--', 'cat'], { input: 'piped in\n' });
    expect({ code, stdout }).toEqual({ code: 0, stdout: 'piped in\n' });
  });

  it('tells who the user is: token, impersonation, client certificate', async () => {
    const admin = await kubectl(['auth', 'whoami', '-o', 'json']);
    expect(JSON.parse(admin.stdout)).toMatchObject({ status: { userInfo: { username: 'admin', groups: ['system:masters', 'system:authenticated'] } } });

    const impersonated = await kubectl(['auth', 'whoami', '-o', 'json', '--as', 'dave', '--as-group', 'qa']);
    expect(JSON.parse(impersonated.stdout)).toMatchObject({ status: { userInfo: { username: 'dave', groups: ['qa', 'system:authenticated'] } } });

    const { cert, key } = fake.issueClientCertificate('erin', ['ops']);
    const kubeconfig = writeKubeconfig({
      'client-certificate-data': Buffer.from(cert).toString('base64'),
      'client-key-data': Buffer.from(key).toString('base64'),
    });
    const certified = await kubectl(['auth', 'whoami', '-o', 'json'], { kubeconfig });
    expect(JSON.parse(certified.stdout)).toMatchObject({ status: { userInfo: { username: 'erin', groups: ['ops', 'system:authenticated'] } } });
    expect(fake.requests.at(-1)).toMatchObject({ user: 'erin', authenticatedBy: 'certificate' });
  });

  it('shows the Unauthorized Status for a wrong token', async () => {
    const { code, stderr } = await kubectl(['get', 'pods'], { kubeconfig: writeKubeconfig({ token: 'wrong' }) });
    expect(code).not.toBe(0);
    expect(stderr).toContain('Unauthorized');
  });
});

