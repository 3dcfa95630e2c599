import { describe, expect, it } from 'vitest';
import { validateClusterConfig, type ClusterConfig, type ExecPluginConfig } from '../../src/clusters/cluster-config.ts';
import { execCredentialInput, parseExecCredential } from '../../src/credentials/exec-credential.ts';
import { ExecRunError, MAX_EXEC_OUTPUT_BYTES, runExecPlugin, stderrExcerpt } from '../../src/credentials/exec-process.ts';

const V1 = 'client.authentication.k8s.io/v1';
const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n';
const output = (status: Record<string, unknown>) => JSON.stringify({ apiVersion: V1, kind: 'ExecCredential', spec: {}, status });

describe('parseExecCredential', () => {
  it('takes a token and its expiry', () => {
    expect(parseExecCredential(output({ token: 'abc', expirationTimestamp: '2030-01-02T03:04:05Z' }), V1)).toEqual({
      token: 'abc',
      expiresAt: new Date('2030-01-02T03:04:05Z'),
    });
  });

  it('takes a certificate pair, alone or with a token, and ignores fields it does not know', () => {
    expect(parseExecCredential(output({ clientCertificateData: CERT, clientKeyData: KEY, extra: 1 }), V1)).toEqual({ certificate: { cert: CERT, key: KEY } });
    expect(parseExecCredential(output({ token: 't', clientCertificateData: CERT, clientKeyData: KEY }), V1)).toEqual({ token: 't', certificate: { cert: CERT, key: KEY } });
  });

  it.each([
    ['2030-01-02T03:04:05.123456Z', '2030-01-02T03:04:05.123Z'],
    ['2030-01-02T05:04:05+02:00', '2030-01-02T03:04:05Z'],
    ['2030-01-02t03:04:05z', '2030-01-02T03:04:05Z'],
  ])('reads the RFC 3339 time %s', (timestamp, iso) => {
    expect(parseExecCredential(output({ token: 't', expirationTimestamp: timestamp }), V1).expiresAt?.toISOString()).toBe(new Date(iso).toISOString());
  });

  it.each(['2030-01-02', '2030-01-02 03:04:05Z', '2030-02-31T00:00:00Z', '2030-01-02T24:00:00Z', '1893459845'])('refuses %j as expirationTimestamp', (timestamp) => {
    expect(() => parseExecCredential(output({ token: 't', expirationTimestamp: timestamp }), V1)).toThrow('status.expirationTimestamp is not an RFC 3339 time');
  });

  it('reads an empty expirationTimestamp as none, as Go decodes omitempty fields', () => {
    expect(parseExecCredential(output({ token: 't', expirationTimestamp: '' }), V1)).toEqual({ token: 't' });
  });

  it('wants the apiVersion it was configured with, not merely a known one', () => {
    expect(() => parseExecCredential(output({ token: 't' }), 'client.authentication.k8s.io/v1beta1')).toThrow(
      'apiVersion is "client.authentication.k8s.io/v1"; the plugin is configured for "client.authentication.k8s.io/v1beta1"',
    );
  });

  it('never quotes what could be a credential', () => {
    const secret = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln';
    const messages = [
      JSON.stringify({ apiVersion: secret }),
      JSON.stringify({ apiVersion: V1, kind: secret }),
      JSON.stringify({ apiVersion: V1, kind: 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3' }),
      `{"token": "${secret}"`,
      `${secret}\n`,
    ].map((stdout) => {
      try {
        parseExecCredential(stdout, V1);
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    });
    expect(messages).toEqual([
      `apiVersion is a string that is not shown; the plugin is configured for "${V1}"`,
      'kind is a string that is not shown; expected "ExecCredential"',
      'kind is a string that is not shown; expected "ExecCredential"',
      'the output is not JSON; expected an ExecCredential JSON object',
      'the output is not JSON; expected an ExecCredential JSON object',
    ]);
  });
});

describe('execCredentialInput', () => {
  const cluster = (config: Partial<ClusterConfig>) => validateClusterConfig({ name: 'c', server: 'https://k8s.example:6443', ...config }, 'clusters[0]');
  const exec = (config: Partial<ExecPluginConfig> = {}): ExecPluginConfig => ({ apiVersion: V1, command: 'p', ...config });

  it('says the plugin is not interactive and gives no cluster unless asked', () => {
    expect(JSON.parse(execCredentialInput(cluster({ ca: CERT }), exec()))).toEqual({ kind: 'ExecCredential', apiVersion: V1, spec: { interactive: false } });
  });

  it("gives the cluster under client-go's field names, the server as configured", () => {
    const info = (config: Partial<ClusterConfig>) => (JSON.parse(execCredentialInput(cluster(config), exec({ provideClusterInfo: true }))) as { spec: { cluster: unknown } }).spec.cluster;
    expect(info({ ca: CERT, tlsServerName: 'api.internal' })).toEqual({
      server: 'https://k8s.example:6443',
      'tls-server-name': 'api.internal',
      'certificate-authority-data': Buffer.from(CERT).toString('base64'),
    });
    expect(info({ server: 'https://rancher.example/k8s/clusters/c-abc', insecureSkipTLSVerify: true })).toEqual({
      server: 'https://rancher.example/k8s/clusters/c-abc',
      'insecure-skip-tls-verify': true,
    });
  });
});

describe('stderrExcerpt', () => {
  it('redacts JWTs and long base64 runs, keeps the words around them', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl';
    const key = Buffer.from('a private key of some length, long enough').toString('base64');
    expect(stderrExcerpt(`token ${jwt} expired\nkey=${key}\n`)).toBe('token [redacted] expired key=[redacted]');
  });

  it('drops control characters and collapses whitespace', () => {
    expect(stderrExcerpt('\u001b[31merror:\u001b[0m\r\n\tdenied  \n')).toBe('[31merror: [0m denied');
  });

  it('keeps at most 300 characters', () => {
    expect(stderrExcerpt('word '.repeat(100))).toHaveLength(301);
  });
});

describe('runExecPlugin', () => {
  const node = (script: string, timeoutMs = 5_000) => runExecPlugin({ command: process.execPath, args: ['-e', script], env: {}, timeoutMs });

  it('passes arguments without a shell', async () => {
    const args = ['$(touch /tmp/kcp-pwned)', '; exit 3', '"quoted"'];
    const stdout = await runExecPlugin({ command: process.execPath, args: ['-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', ...args], env: {}, timeoutMs: 5_000 });
    expect(JSON.parse(stdout)).toEqual(args);
  });

  it('gives the plugin no stdin: a read ends at once', async () => {
    expect(await node("let n = 0; process.stdin.on('data', (c) => (n += c.length)).on('end', () => process.stdout.write(`eof after ${n}`));")).toBe('eof after 0');
  });

  it('refuses more than 1 MiB of output and stops the plugin', async () => {
    const run = node(`const chunk = 'x'.repeat(65536); const write = () => { while (process.stdout.write(chunk)); process.stdout.once('drain', write); }; write();`);
    await expect(run).rejects.toThrow(new ExecRunError('too-large', 'printed more than 1 MiB on stdout'));
    expect(MAX_EXEC_OUTPUT_BYTES).toBe(1_048_576);
  });

  it('reports a plugin killed by a signal', async () => {
    await expect(runExecPlugin({ command: '/bin/sh', args: ['-c', 'echo bye >&2; kill -TERM $$'], env: {}, timeoutMs: 5_000 })).rejects.toMatchObject({
      reason: 'exit',
      message: 'was killed by SIGTERM: bye',
    });
  });

  it('reports the kind of failure', async () => {
    await expect(node('process.exit(7)')).rejects.toMatchObject({ reason: 'exit', message: 'failed with exit code 7 and printed nothing on stderr' });
    await expect(node('setTimeout(() => {}, 10_000)', 100)).rejects.toMatchObject({ reason: 'timeout', message: 'timed out after 100 ms' });
    await expect(runExecPlugin({ command: 'kcp-surely-not-installed', args: [], env: { PATH: '/nonexistent' }, timeoutMs: 1_000 })).rejects.toMatchObject({ reason: 'not-found' });
    await expect(runExecPlugin({ command: process.execPath, args: ['a\0b'], env: {}, timeoutMs: 1_000 })).rejects.toMatchObject({ reason: 'not-started' });
  });
});
