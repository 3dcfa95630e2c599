import { describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../src/clusters/cluster-config.ts';
import { clusterInfo, listable } from '../../src/clusters/cluster-info.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nU0VDUkVULUNB\n-----END CERTIFICATE-----\n';
const SECRET = 'SECRET-VALUE-1234';

/** One configuration per credential kind, each planting the same secret wherever a value can be. */
const configs: ClusterConfig[] = [
  { name: 'token', server: 'https://a.example:6443/k8s/clusters/c-1', ca: PEM, credentials: { token: SECRET }, impersonate: { user: SECRET, groups: [SECRET] } },
  { name: 'file', server: 'https://a.example', credentials: { tokenFile: `/run/${SECRET}` } },
  { name: 'cert', server: 'https://a.example', credentials: { clientCertificate: PEM.replace('U0VDUkVULUNB', SECRET), clientKey: PEM.replace('U0VDUkVULUNB', SECRET) } },
  { name: 'fetch', server: 'https://a.example', credentials: { getToken: () => Promise.resolve({ token: SECRET }) } },
  {
    name: 'exec',
    server: 'https://a.example',
    credentials: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: SECRET, args: [SECRET], env: [{ name: 'K', value: SECRET }], interactiveMode: 'Never' } },
  },
  { name: 'oidc', server: 'https://a.example', credentials: { oidc: { issuerUrl: 'https://idp.example', clientId: 'c', clientSecret: SECRET, idToken: SECRET, refreshToken: SECRET } } },
  {
    name: 'imp',
    server: 'https://a.example',
    authMode: 'impersonate',
    credentials: { token: SECRET },
    impersonation: { issuer: 'https://idp.example', audience: SECRET, issuerCa: PEM },
    context: { namespace: 'team-a', user: SECRET, file: `/home/${SECRET}` },
  },
  { name: 'user', server: 'http://b.example:8080', sessionProvider: 'corp' },
];

describe('clusterInfo', () => {
  it.each(configs)('shows no credential, CA, token or identity of $name', (config) => {
    const text = JSON.stringify(clusterInfo(config));
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('BEGIN');
    expect(text).not.toContain('/k8s/clusters');
  });

  it('says how each cluster authenticates', () => {
    expect(configs.map(clusterInfo).map(({ name, authMode, needsUserToken, credentialKind }) => [name, authMode, needsUserToken, credentialKind])).toEqual([
      ['token', 'cluster', false, 'token'],
      ['file', 'cluster', false, 'tokenFile'],
      ['cert', 'cluster', false, 'clientCertificate'],
      ['fetch', 'cluster', false, 'getToken'],
      ['exec', 'cluster', false, 'exec'],
      ['oidc', 'cluster', false, 'oidc'],
      ['imp', 'impersonate', true, 'token'],
      ['user', 'user', true, undefined],
    ]);
    expect(clusterInfo(configs[6]!).namespace).toBe('team-a');
    expect(clusterInfo(configs[7]!)).toMatchObject({ serverHost: 'b.example:8080', sessionProvider: 'corp' });
  });
});

describe('listable', () => {
  it('leaves an invalid configuration out, with a warning naming it', () => {
    const warnings: string[] = [];
    const logger = { warn: (message: string) => void warnings.push(message) };
    expect(listable({ name: 'bad', server: 'ftp://x' }, logger)).toEqual([]);
    expect(listable({ name: 'good', server: 'https://x' }, logger).map((c) => c.name)).toEqual(['good']);
    expect(warnings).toEqual([expect.stringContaining('cluster "bad" is left out of listClusters()')]);
  });
});
