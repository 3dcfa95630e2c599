import { describe, expect, it } from 'vitest';
import { validateClusterConfig, type ClusterConfig } from '../../src/clusters/cluster-config.ts';
import { staticClusters } from '../../src/clusters/static-clusters.ts';
import { InvalidOptionError } from '../../src/errors.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('validateClusterConfig', () => {
  it('defaults authMode to cluster with credentials and user without', () => {
    expect(validateClusterConfig({ name: 'a', server: 'https://a:6443', credentials: { token: 't' } }, 'c').authMode).toBe('cluster');
    expect(validateClusterConfig({ name: 'b', server: 'https://b:6443' }, 'c').authMode).toBe('user');
  });

  it('keeps a server path (Rancher) and the TLS settings', () => {
    const cluster = validateClusterConfig(
      { name: 'r', server: 'https://rancher.example/k8s/clusters/c-abc', ca: PEM, tlsServerName: 'kubernetes' },
      'c',
    );
    expect(cluster.server.pathname).toBe('/k8s/clusters/c-abc');
    expect(cluster.tlsServerName).toBe('kubernetes');
    expect(cluster.insecureSkipTLSVerify).toBe(false);
    expect(cluster.http2).toBe(false);
    expect(validateClusterConfig({ name: 'h', server: 'https://h', http2: true }, 'c').http2).toBe(true);
  });

  it.each<[string, unknown, RegExp]>([
    ['a missing name', { server: 'https://a' }, /name must be a string/],
    ['a name with a slash', { name: 'a/b', server: 'https://a' }, /must not contain "\/"/],
    ['an empty name', { name: '', server: 'https://a' }, /must not be empty/],
    ['a server without a scheme', { name: 'a', server: 'a.example:6443' }, /server has no scheme/],
    ['a non-URL server', { name: 'a', server: 'not a url' }, /absolute http\(s\) URL/],
    ['an ftp server', { name: 'a', server: 'ftp://a' }, /http: or https:/],
    ['credentials in the URL', { name: 'a', server: 'https://u:p@a' }, /must not carry credentials/],
    ['a query in the URL', { name: 'a', server: 'https://a/?x=1' }, /query or fragment/],
    ['a CA that is not PEM', { name: 'a', server: 'https://a', ca: 'abc' }, /ca must be a PEM/],
    ['CA and insecure', { name: 'a', server: 'https://a', ca: PEM, insecureSkipTLSVerify: true }, /cannot be used together/],
    ['cluster mode without credentials', { name: 'a', server: 'https://a', authMode: 'cluster' }, /authMode 'cluster' needs .*credentials/],
    ['user-then-cluster without credentials', { name: 'a', server: 'https://a', authMode: 'user-then-cluster' }, /needs/],
    ['an unknown authMode', { name: 'a', server: 'https://a', authMode: 'both' }, /authMode must be one of/],
    ['two credential kinds', { name: 'a', server: 'https://a', credentials: { token: 't', tokenFile: '/f' } }, /credentials must be one of/],
    ['empty credentials', { name: 'a', server: 'https://a', credentials: {} }, /credentials must be one of/],
    ['an empty token', { name: 'a', server: 'https://a', credentials: { token: ' ' } }, /token must be a non-empty/],
    ['a certificate without key', { name: 'a', server: 'https://a', credentials: { clientCertificate: PEM } }, /one of/],
    ['a key that is not PEM', { name: 'a', server: 'https://a', credentials: { clientCertificate: PEM, clientKey: 'x' } }, /clientKey/],
    ['a certificate over http', { name: 'a', server: 'http://a', credentials: { clientCertificate: PEM, clientKey: PEM } }, /needs an https: server/],
    ['getToken not a function', { name: 'a', server: 'https://a', credentials: { getToken: 'x' } }, /getToken must be a function/],
    ['a non-boolean http2', { name: 'a', server: 'https://a', http2: 'yes' }, /clusters\[0\] \("a"\)\.http2 must be a boolean.*got "yes"/],
    ['http2 over http', { name: 'a', server: 'http://a', http2: true }, /http2 needs an https: server/],
    ['an unknown identify', { name: 'a', server: 'https://a', identify: 'whoami' }, /identify must be 'self-subject-review'/],
    ['identify with the cluster’s own credentials', { name: 'a', server: 'https://a', credentials: { token: 't' }, identify: 'self-subject-review' }, /identify is for the user's own token.*'cluster' sends no user token/],
  ])('refuses %s, naming the option', (_name, config, message) => {
    expect(() => validateClusterConfig(config as ClusterConfig, 'clusters[0]')).toThrow(InvalidOptionError);
    expect(() => validateClusterConfig(config as ClusterConfig, 'clusters[0]')).toThrow(message);
  });

  it("takes identify: 'self-subject-review' for the user's own token, off by default", () => {
    expect(validateClusterConfig({ name: 'u', server: 'https://u' }, 'c').identify).toBeUndefined();
    expect(validateClusterConfig({ name: 'u', server: 'https://u', identify: 'self-subject-review' }, 'c').identify).toBe('self-subject-review');
    const fallback = { name: 'f', server: 'https://f', credentials: { token: 't' }, authMode: 'user-then-cluster', identify: 'self-subject-review' } as const;
    expect(validateClusterConfig(fallback, 'c').identify).toBe('self-subject-review');
  });

  it('names the cluster in messages', () => {
    expect(() => validateClusterConfig({ name: 'prod', server: 'https://a', authMode: 'cluster' }, 'clusters[3]')).toThrow(
      /clusters\[3\] \("prod"\)/,
    );
  });
});

describe('staticClusters', () => {
  it('resolves by name and lists in order', async () => {
    const a = { name: 'a', server: 'https://a' };
    const b = { name: 'b', server: 'https://b' };
    const resolver = staticClusters([a, b]);
    expect(await resolver.resolve('b')).toBe(b);
    expect(await resolver.resolve('c')).toBeUndefined();
    expect(await resolver.list()).toEqual([a, b]);
  });

  it('refuses duplicate names and non-arrays', () => {
    expect(() => staticClusters([{ name: 'a', server: 'https://a' }, { name: 'a', server: 'https://b' }])).toThrow(/used by two clusters/);
    expect(() => staticClusters({} as never)).toThrow(InvalidOptionError);
  });
});
