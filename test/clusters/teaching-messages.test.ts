import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateClusterConfig, type ClusterConfig } from '../../src/clusters/cluster-config.ts';
import { createClusterProxy } from '../../src/create-cluster-proxy.ts';
import { InvalidOptionError } from '../../src/errors.ts';
import { clusterNotFound } from '../../src/pipeline/route.ts';
import { createCertificateAuthority, serve, startFakeCluster, testClient } from '../../src/testing/index.ts';

// The mistakes a newcomer makes in the first hour, and messages that say what to do about them.

const messageOf = (config: unknown): string => {
  try {
    validateClusterConfig(config as ClusterConfig, 'clusters[0]');
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
};

const dir = mkdtempSync(join(tmpdir(), 'kcp-messages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('messages that say what to do', () => {
  it('a token read from an unset environment variable', () => {
    const env: Record<string, string | undefined> = {};
    const message = messageOf({ name: 'prod', server: 'https://prod.example:6443', credentials: { token: env.PROD_TOKEN } });
    expect(message).toContain('clusters[0] ("prod").credentials.token is undefined');
    expect(message).toContain('unset environment variable');
    expect(message).not.toContain('must be one of');
  });

  it('a client key read from an unset environment variable, beside its certificate', () => {
    const { cert } = createCertificateAuthority({ commonName: 'messages' });
    const message = messageOf({ name: 'prod', server: 'https://p', credentials: { clientCertificate: cert, clientKey: undefined } });
    expect(message).toContain('credentials.clientKey is undefined');
  });

  it('a token set to an empty string', () => {
    expect(messageOf({ name: 'p', server: 'https://p', credentials: { token: '' } })).toMatch(/token must be a non-empty string.*it is empty/);
  });

  it('a server without a scheme', () => {
    const message = messageOf({ name: 'prod', server: 'prod.example:6443' });
    expect(message).toContain('clusters[0] ("prod").server has no scheme: add https://');
    expect(message).toContain('"https://prod.example:6443"');
    expect(message).not.toContain('got prod.example:');
  });

  it('an unset server, and one with another scheme', () => {
    expect(messageOf({ name: 'p', server: undefined })).toMatch(/server must be the API server's URL, e\.g\. https:\/\/.*got undefined \(an unset environment variable\?\)/);
    expect(messageOf({ name: 'p', server: 'ws://p.example' })).toContain('server must use http: or https:; got ws:');
  });

  it('a CA file path where the PEM belongs', () => {
    const file = join(dir, 'ca.crt');
    writeFileSync(file, createCertificateAuthority({ commonName: 'x' }).cert);
    const message = messageOf({ name: 'p', server: 'https://p', ca: file });
    expect(message).toContain(`ca must be a PEM string or Buffer; got the file path ${JSON.stringify(file)}`);
    expect(message).toContain(`fs.readFileSync(${JSON.stringify(file)})`);
    expect(messageOf({ name: 'p', server: 'https://p', ca: './certs/ca.pem' })).toContain('fs.readFileSync("./certs/ca.pem")');
    expect(messageOf({ name: 'p', server: 'https://p', credentials: { clientCertificate: 'client.crt', clientKey: 'client.key' } })).toContain(
      'credentials.clientCertificate must be a PEM string or Buffer; got the file path "client.crt"',
    );
  });

  it('base64 of a PEM (a kubeconfig *-data field) where the PEM belongs, never quoting it back', () => {
    const base64 = Buffer.from(createCertificateAuthority({ commonName: 'x' }).cert).toString('base64');
    const message = messageOf({ name: 'p', server: 'https://p', ca: base64 });
    expect(message).toContain("decode it first, e.g. Buffer.from(value, 'base64')");
    expect(message).not.toContain(base64.slice(0, 20));
  });

  it('an issuer CA path in the OIDC auth-provider and in impersonation', () => {
    const oidc = { issuerUrl: 'https://idp.example', clientId: 'k', idToken: 'x', issuerCa: '/etc/idp-ca.pem' };
    expect(messageOf({ name: 'p', server: 'https://p', credentials: { oidc } })).toContain('credentials.oidc.issuerCa must be a PEM string or Buffer; got the file path');
    const impersonation = { issuer: 'https://idp.example', audience: 'k', issuerCa: '/etc/idp-ca.pem' };
    expect(messageOf({ name: 'p', server: 'https://p', authMode: 'impersonate', credentials: { token: 't' }, impersonation })).toContain(
      'impersonation.issuerCa must be a PEM string or Buffer; got the file path',
    );
  });
});

describe('an unknown cluster', () => {
  it('shows the path shape, with the mount path', () => {
    expect(clusterNotFound('staging', '/k8s/').message).toBe(
      'cluster "staging" not found: no configured cluster has that name; requests go to /k8s/<cluster>/<Kubernetes API path>, e.g. /k8s/prod/api/v1/pods',
    );
  });

  it.each(['api', 'apis', 'version', 'openapi'])('says the cluster segment is missing when the "cluster" is %s', (name) => {
    expect(clusterNotFound(name, '/clusters').message).toContain(
      `the path has no cluster segment ("${name}" starts a Kubernetes API path); put the cluster's name after /clusters: /clusters/<cluster>/${name}/...`,
    );
  });

  it('reaches the client as a 404 Status with the hint and the proxy error header', async () => {
    await using fake = await startFakeCluster();
    await using proxy = createClusterProxy({ clusters: [fake.clusterConfig('dev')], logger: { warn() {}, error() {} } });
    await using server = await serve((req, res) => proxy(req, res), { proxy });
    const missing = await testClient(`${server.url}/clusters`).get('/api/v1/pods');
    expect(missing.status).toBe(404);
    expect(missing.headers['x-kube-cluster-proxy-error']).toBe('ERR_CLUSTER_NOT_FOUND');
    expect((missing.body as { message: string }).message).toContain('the path has no cluster segment');
    const unknown = await testClient(`${server.url}/clusters/staging`).get('/api/v1/pods');
    expect((unknown.body as { message: string }).message).toContain('requests go to /clusters/<cluster>/<Kubernetes API path>');
    expect(fake.requests).toHaveLength(0);
  });
});
