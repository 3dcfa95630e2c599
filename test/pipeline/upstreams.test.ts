import { describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../src/clusters/cluster-config.ts';
import { ClusterMisconfiguredError, ClusterNotFoundError } from '../../src/errors.ts';
import { createDeadlines } from '../../src/forward/deadlines.ts';
import { createUpstreamRegistry } from '../../src/pipeline/upstreams.ts';
import { createTokenCache } from '../../src/tokens/cached-token.ts';
import { memoryTokenStore } from '../../src/tokens/memory-token-store.ts';
import { createCertificateAuthority } from '../../src/testing/certificates.ts';

// Real pairs: a route builds its TLS context at once, and OpenSSL refuses a fake one.
const authority = createCertificateAuthority({ commonName: 'upstreams test CA' });
const pairs = ['1', '2', '3'].map((n) => authority.issue({ commonName: `user-${n}`, usage: 'client' }));

function registry(resolve: (name: string) => ClusterConfig | undefined, engine: 'undici' | 'http-proxy-middleware' = 'undici') {
  const warnings: string[] = [];
  const store = memoryTokenStore();
  const upstreams = createUpstreamRegistry(
    { resolve, list: () => [] },
    {
      tokenCache: createTokenCache(store, Date.now),
      tokenStore: store,
      now: Date.now,
      onError: () => {},
      logger: { warn: (message: string) => warnings.push(message), error: () => {} },
      engine,
      policy: undefined,
      observer: { response: () => {}, opened: () => {}, closed: () => {}, streamStarted: () => {}, failure: () => {} },
      deadlines: createDeadlines(),
    },
  );
  return { upstreams, warnings };
}

const PEM = '-----BEGIN X-----\nAA==\n-----END X-----\n';

/** Every nested field of a configuration, each in two values that differ. */
const variants: [string, (v: 0 | 1) => Partial<ClusterConfig>][] = [
  ['server', (v) => ({ server: `https://${v ? 'b' : 'a'}.example:6443` })],
  ['ca (Buffer)', (v) => ({ ca: Buffer.from(PEM.replace('AA', v ? 'AB' : 'AA')) })],
  ['tlsServerName', (v) => ({ tlsServerName: v ? 'b' : 'a' })],
  ['http2', (v) => ({ http2: v === 1 })],
  ['credentials.token', (v) => ({ credentials: { token: v ? 't2' : 't1' } })],
  ['credentials.exec.args', (v) => ({ credentials: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'x', args: [v ? 'b' : 'a'], interactiveMode: 'Never' } } })],
  ['credentials.exec.env', (v) => ({ credentials: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'x', env: [{ name: 'A', value: v ? '2' : '1' }], interactiveMode: 'Never' } } })],
  ['credentials.oidc.refreshToken', (v) => ({ credentials: { oidc: { issuerUrl: 'https://idp.example', clientId: 'c', refreshToken: v ? 'r2' : 'r1' } } })],
  ['impersonate.groups', (v) => ({ credentials: { token: 't' }, impersonate: { user: 'u', groups: [v ? 'b' : 'a'] } })],
  ['impersonate.extra', (v) => ({ credentials: { token: 't' }, impersonate: { user: 'u', extra: { scopes: [v ? 'b' : 'a'] } } })],
  ['context.namespace', (v) => ({ context: { namespace: v ? 'b' : 'a' } })],
  [
    'impersonation.audience',
    (v) => ({ authMode: 'impersonate', credentials: { token: 't' }, impersonation: { issuer: 'https://idp.example', audience: [v ? 'b' : 'a'] } }),
  ],
];

describe('createUpstreamRegistry', () => {
  it.each(variants)('keeps one upstream while a resolver returns fresh, equal objects, and builds a new one when %s changes', async (_field, variant) => {
    let v: 0 | 1 = 0;
    const { upstreams } = registry((name) => ({ name, server: 'https://a.example:6443', ...variant(v) }));
    const first = await upstreams.get('a');
    const again = await upstreams.get('a');
    expect(again).toBe(first);
    expect(again.user).toBe(first.user);
    v = 1;
    const changed = await upstreams.get('a');
    expect(changed).not.toBe(first);
    await upstreams.close();
  });

  it('keeps the routes of the two latest client certificates', async () => {
    const { upstreams } = registry((name) => ({ name, server: 'https://a.example', credentials: { token: 't' } }));
    const upstream = await upstreams.get('a');
    const routes = pairs.map(({ cert, key }) => upstream.own({ cert, key }));
    expect(upstream.routes()).toEqual([upstream.user, routes[1], routes[2]]);
    expect(upstream.own({ cert: pairs[2]!.cert, key: pairs[2]!.key })).toBe(routes[2]);
    expect(upstream.own({ cert: Buffer.from(pairs[2]!.cert), key: pairs[2]!.key })).not.toBe(routes[2]);
    await upstreams.close();
  });

  it('uses a route of its own for the cluster identity only when it has a client certificate', async () => {
    const { upstreams } = registry((name) =>
      name === 'cert'
        ? { name, server: 'https://a.example', credentials: { clientCertificate: pairs[0]!.cert, clientKey: pairs[0]!.key } }
        : { name, server: 'https://a.example', credentials: { token: 't' } },
    );
    const cert = await upstreams.get('cert');
    if (cert.access.mode !== 'cluster') throw new Error(`expected cluster access, got ${cert.access.mode}`);
    const { certificate } = await cert.access.credentials.obtain();
    const own = cert.own(certificate);
    expect(own).not.toBe(cert.user);
    expect(cert.own(certificate)).toBe(own);
    const token = await upstreams.get('token');
    if (token.access.mode !== 'cluster') throw new Error('expected cluster access');
    expect(token.own((await token.access.credentials.obtain()).certificate)).toBe(token.user);
    await upstreams.close();
  });

  it('gives each authMode the sources it needs', async () => {
    const { upstreams } = registry((name) =>
      ({
        user: { name, server: 'https://a.example' },
        cluster: { name, server: 'https://a.example', credentials: { token: 't' } },
        both: { name, server: 'https://a.example', credentials: { token: 't' }, authMode: 'user-then-cluster' },
        imp: { name, server: 'https://a.example', credentials: { token: 't' }, authMode: 'impersonate', impersonation: { issuer: 'https://idp.example', audience: 'c' } },
      })[name] as ClusterConfig,
    );
    expect((await upstreams.get('user')).access).toEqual({ mode: 'user' });
    expect((await upstreams.get('cluster')).access).toMatchObject({ mode: 'cluster', credentials: { kind: 'token' } });
    expect((await upstreams.get('both')).access).toMatchObject({ mode: 'user-then-cluster', credentials: { kind: 'token' } });
    expect((await upstreams.get('imp')).access).toMatchObject({ mode: 'impersonate', credentials: { kind: 'token' }, verifier: { verify: expect.any(Function) } });
    await upstreams.close();
  });

  it('answers 404 for an unknown cluster and 500 for an invalid or misnamed one', async () => {
    const { upstreams } = registry((name) =>
      name === 'bad' ? ({ name, server: 'ftp://x' }) : name === 'other' ? { name: 'else', server: 'https://x' } : undefined,
    );
    await expect(upstreams.get('nope')).rejects.toBeInstanceOf(ClusterNotFoundError);
    await expect(upstreams.get('bad')).rejects.toBeInstanceOf(ClusterMisconfiguredError);
    await expect(upstreams.get('bad')).rejects.toThrow(/cluster "bad" is misconfigured: .*server must use http: or https:/);
    await expect(upstreams.get('other')).rejects.toThrow(/returned a cluster named "else"/);
  });

  it("answers 500 for a resolver's http2 cluster on the http-proxy-middleware engine, naming both options", async () => {
    const { upstreams } = registry((name) => ({ name, server: 'https://x', http2: true }), 'http-proxy-middleware');
    await expect(upstreams.get('h2')).rejects.toBeInstanceOf(ClusterMisconfiguredError);
    await expect(upstreams.get('h2')).rejects.toThrow(/cluster "h2" is misconfigured: http2 needs engine 'undici' \(engine 'http-proxy-middleware' speaks HTTP\/1\.1 only\)/);
    const undici = registry((name) => ({ name, server: 'https://x', http2: true }));
    expect((await undici.upstreams.get('h2')).cluster.http2).toBe(true);
    await undici.upstreams.close();
  });

  it('warns once per cluster about insecureSkipTLSVerify', async () => {
    let server = 'https://a.example';
    const { upstreams, warnings } = registry((name) => ({ name, server, insecureSkipTLSVerify: true }));
    await upstreams.get('a');
    server = 'https://b.example';
    await upstreams.get('a');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/cluster "a" has insecureSkipTLSVerify/);
    await upstreams.close();
  });
});
