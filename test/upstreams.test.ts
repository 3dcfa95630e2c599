import { describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../src/clusters/cluster-config.ts';
import { ClusterMisconfiguredError, ClusterNotFoundError } from '../src/errors.ts';
import { createTokenCache } from '../src/tokens/cached-token.ts';
import { memoryTokenStore } from '../src/tokens/memory-token-store.ts';
import { createUpstreamRegistry } from '../src/upstreams.ts';

function registry(resolve: (name: string) => ClusterConfig | undefined) {
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
      observer: { response: () => {}, failure: () => {} },
    },
  );
  return { upstreams, warnings };
}

describe('createUpstreamRegistry', () => {
  it('keeps one upstream (one agent) while a resolver returns equal fresh objects', async () => {
    const { upstreams } = registry((name) => ({ name, server: 'https://a.example:6443', credentials: { token: 't' } }));
    const first = await upstreams.get('a');
    const second = await upstreams.get('a');
    expect(second).toBe(first);
    expect(second.user.agent).toBe(first.user.agent);
    upstreams.close();
  });

  it('builds a new upstream when the configuration changes', async () => {
    let server = 'https://a.example:6443';
    const { upstreams } = registry((name) => ({ name, server }));
    const first = await upstreams.get('a');
    server = 'https://b.example:6443';
    const second = await upstreams.get('a');
    expect(second).not.toBe(first);
    expect(second.cluster.server.host).toBe('b.example:6443');
    upstreams.close();
  });

  it('keeps the agents of the two latest client certificates', async () => {
    const { upstreams } = registry((name) => ({ name, server: 'https://a.example', credentials: { token: 't' } }));
    const upstream = await upstreams.get('a');
    const routes = ['1', '2', '3'].map((n) => upstream.own({ cert: `cert-${n}`, key: `key-${n}` }));
    expect(upstream.agents()).toEqual([upstream.user.agent, routes[1]!.agent, routes[2]!.agent]);
    expect(upstream.own({ cert: 'cert-3', key: 'key-3' })).toBe(routes[2]);
    upstreams.close();
  });

  it('uses a separate agent for the cluster identity only when it has a client certificate', async () => {
    const pem = '-----BEGIN X-----\nAA==\n-----END X-----\n';
    const { upstreams } = registry((name) =>
      name === 'cert'
        ? { name, server: 'https://a.example', credentials: { clientCertificate: pem, clientKey: pem } }
        : { name, server: 'https://a.example', credentials: { token: 't' } },
    );
    const cert = await upstreams.get('cert');
    const { certificate } = await cert.credentials!.obtain();
    const own = cert.own(certificate);
    expect(own.agent).not.toBe(cert.user.agent);
    expect(cert.own(certificate)).toBe(own);
    expect((own.agent as unknown as { options: { cert?: unknown } }).options.cert).toBe(pem);
    expect((cert.user.agent as unknown as { options: { cert?: unknown } }).options.cert).toBeUndefined();
    const token = await upstreams.get('token');
    expect(token.own((await token.credentials!.obtain()).certificate)).toBe(token.user);
    upstreams.close();
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

  it('warns once per cluster about insecureSkipTLSVerify', async () => {
    let server = 'https://a.example';
    const { upstreams, warnings } = registry((name) => ({ name, server, insecureSkipTLSVerify: true }));
    await upstreams.get('a');
    server = 'https://b.example';
    await upstreams.get('a');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/cluster "a" has insecureSkipTLSVerify/);
    upstreams.close();
  });
});
