import type { RequestListener } from 'node:http';
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority } from 'kube-cluster-proxy/testing';
import { validateClusterConfig, type OidcAuthProviderConfig } from '../../src/clusters/cluster-config.ts';
import { createOidcCredentialSource } from '../../src/credentials/oidc-auth-provider.ts';
import { ClusterProxyError } from '../../src/errors.ts';
import { createTokenCache } from '../../src/tokens/cached-token.ts';
import { memoryTokenStore } from '../../src/tokens/memory-token-store.ts';
import type { TokenStore } from '../../src/tokens/token-store.ts';
import { startIssuer as startTestIssuer, type TestServer } from '../helpers/issuers.ts';
import { startOidcProvider, type OidcProvider } from '../helpers/oidc-provider.ts';

let idp: OidcProvider;
const servers: TestServer[] = [];

beforeAll(async () => {
  idp = await startOidcProvider();
});
afterAll(() => idp.close());
afterEach(async () => {
  idp.idTokenTtl = 300;
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** One proxy replica's view of the cluster: its own token cache over a possibly shared store. */
function replica(oidc: Partial<OidcAuthProviderConfig>, options: { store?: TokenStore; now?: () => number } = {}) {
  const store = options.store ?? memoryTokenStore();
  const now = options.now ?? Date.now;
  const cluster = validateClusterConfig(
    { name: 'c', server: 'https://cluster.invalid', credentials: { oidc: { issuerUrl: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, ...oidc } } },
    'cluster',
  );
  if (!cluster.credentials || !('oidc' in cluster.credentials)) throw new Error('not an oidc cluster');
  const errors: unknown[] = [];
  const source = createOidcCredentialSource(cluster, cluster.credentials.oidc, {
    tokenCache: createTokenCache(store, now),
    tokenStore: store,
    now,
    onError: (error) => errors.push(error),
  });
  return { source, store, errors };
}

async function failure(promise: Promise<unknown>): Promise<ClusterProxyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ClusterProxyError)) throw new Error(`expected a ClusterProxyError, got ${String(error)}`);
  return error;
}

/** A hand-written issuer, for answers oidc-provider would never give; closed after the test. */
async function startIssuer(handler: (issuer: string) => RequestListener, tls?: { cert: string; key: string }): Promise<string> {
  const issuer = await startTestIssuer(handler, tls);
  servers.push(issuer);
  return issuer.url;
}

function discoveryThen(token: (issuer: string, request: { authorization?: string; body: string }) => Promise<object>, metadata: object = {}): (issuer: string) => RequestListener {
  return (issuer) => (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer =
        req.url === '/.well-known/openid-configuration'
          ? Promise.resolve({ issuer, token_endpoint: `${issuer}/token`, ...metadata })
          : token(issuer, { authorization: req.headers.authorization, body: Buffer.concat(chunks).toString() });
      void answer.then((body) => res.setHeader('content-type', 'application/json').end(JSON.stringify(body)));
    });
  };
}

/** rejected() forgets in the background: let it finish before the next obtain(). */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('createOidcCredentialSource', () => {
  it('keeps the rotated refresh-token in the store before using the new id-token', async () => {
    const { refreshToken } = await idp.login('alice');
    const { source, store } = replica({ idToken: 'not-a-jwt', refreshToken });
    const { token } = await source.obtain();
    const rotated = await store.get('cluster:c:oidc:refresh-token');
    expect(rotated).toBeDefined();
    expect(rotated).not.toBe(refreshToken);
    expect(decodeJwt(token ?? '').sub).toBe('alice');
    expect(await store.get('cluster:c:oidc:id-token')).toBe(token);
  });

  it("lets a replica sharing the store refresh with another replica's rotated refresh-token", async () => {
    idp.idTokenTtl = 9;
    const { idToken, refreshToken } = await idp.login('alice');
    const store = memoryTokenStore();
    const a = replica({ idToken, refreshToken }, { store });
    const b = replica({ idToken, refreshToken }, { store });
    const grants = idp.refreshGrants;
    expect(decodeJwt((await a.source.obtain()).token ?? '').sub).toBe('alice');
    // The kubeconfig's refresh-token is spent; b must take a's rotation from the store.
    expect(decodeJwt((await b.source.obtain()).token ?? '').sub).toBe('alice');
    expect(idp.refreshGrants - grants).toBe(2);
  });

  it('refreshes once for replicas that share a store with locks', async () => {
    const { refreshToken } = await idp.login('alice');
    const store = memoryTokenStore();
    const replicas = [1, 2, 3].map(() => replica({ idToken: 'not-a-jwt', refreshToken }, { store }));
    const grants = idp.refreshGrants;
    const tokens = await Promise.all(replicas.map((r) => r.source.obtain()));
    expect(idp.refreshGrants - grants).toBe(1);
    expect(new Set(tokens.map((t) => t.token)).size).toBe(1);
  });

  it('refreshes once the clock is within 10 s of the id-token expiry', async () => {
    const { idToken, refreshToken } = await idp.login('alice');
    const exp = decodeJwt(idToken).exp! * 1000;
    let now = Date.now();
    const clock = () => now;
    const { source } = replica({ idToken, refreshToken }, { now: clock, store: memoryTokenStore({ now: clock }) });
    const grants = idp.refreshGrants;
    expect((await source.obtain()).token).toBe(idToken);
    now = exp - 10_001;
    expect((await source.obtain()).token).toBe(idToken);
    expect(idp.refreshGrants).toBe(grants);
    now = exp - 9_000;
    await source.obtain();
    expect(idp.refreshGrants - grants).toBe(1);
  });

  it('drops the cached id-token when the cluster refused it', async () => {
    const { idToken, refreshToken } = await idp.login('alice');
    const { source } = replica({ idToken, refreshToken });
    const grants = idp.refreshGrants;
    const first = await source.obtain();
    expect(first.token).toBe(idToken);
    await source.obtain();
    expect(idp.refreshGrants).toBe(grants);
    source.rejected(first);
    await settled();
    const second = await source.obtain();
    expect(idp.refreshGrants - grants).toBe(1);
    source.rejected(second);
    await settled();
    await source.obtain();
    expect(idp.refreshGrants - grants).toBe(2);
  });

  it('forgets a stored refresh-token the issuer refuses', async () => {
    const { refreshToken } = await idp.login('alice');
    const { source, store } = replica({ refreshToken });
    const obtained = await source.obtain();
    await idp.revoke((await store.get('cluster:c:oidc:refresh-token'))!);
    source.rejected(obtained);
    await settled();
    const error = await failure(source.obtain());
    expect(error.statusCode).toBe(401);
    expect(error.message).toContain('invalid_grant');
    expect(await store.get('cluster:c:oidc:refresh-token')).toBeUndefined();
  });

  it('answers 503 when the issuer fails, and 503 when its answer has no id_token', async () => {
    const failing = await startIssuer(() => (_req, res) => res.writeHead(500).end());
    const error = await failure(replica({ issuerUrl: failing, refreshToken: 'r' }).source.obtain());
    expect(error.statusCode).toBe(503);
    expect(error.message).toContain(`the OIDC issuer ${failing} could not be discovered`);

    const noIdToken = await startIssuer(discoveryThen(() => Promise.resolve({ access_token: 'a', token_type: 'Bearer' })));
    const missing = await failure(replica({ issuerUrl: noIdToken, refreshToken: 'r' }).source.obtain());
    expect(missing.statusCode).toBe(503);
    expect(missing.message).toBe(`cluster "c": the OIDC issuer ${noIdToken} answered the refresh without an id_token`);
  });

  it('sends the client secret in the body to an issuer that only takes it there', async () => {
    let seen: { authorization?: string; body: string } | undefined;
    const issuer = await startIssuer(
      discoveryThen(
        (_iss, request) => {
          seen = request;
          return Promise.resolve({ error: 'invalid_grant' });
        },
        { token_endpoint_auth_methods_supported: ['client_secret_post'] },
      ),
    );
    await failure(replica({ issuerUrl: issuer, clientSecret: 's3cret', refreshToken: 'r' }).source.obtain());
    expect(seen?.authorization).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(seen?.body))).toEqual({ grant_type: 'refresh_token', refresh_token: 'r', client_id: idp.clientId, client_secret: 's3cret' });
  });

  it('reaches an HTTPS issuer through issuerCa, and only with it', async () => {
    const authority = createCertificateAuthority({ commonName: 'idp-ca' });
    const { privateKey } = await generateKeyPair('RS256');
    const issuer = await startIssuer(
      discoveryThen(async (iss) => ({
        access_token: 'a',
        token_type: 'Bearer',
        id_token: await new SignJWT({ sub: 'alice' })
          .setProtectedHeader({ alg: 'RS256' })
          .setIssuer(iss)
          .setAudience(idp.clientId)
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(privateKey),
      })),
      authority.issue({ commonName: 'idp', ipAddresses: ['127.0.0.1'], usage: 'server' }),
    );
    const { token } = await replica({ issuerUrl: issuer, issuerCa: authority.cert, refreshToken: 'r' }).source.obtain();
    expect(decodeJwt(token ?? '').sub).toBe('alice');

    const untrusted = await failure(replica({ issuerUrl: issuer, refreshToken: 'r' }).source.obtain());
    expect(untrusted.statusCode).toBe(503);
    expect(untrusted.message).toMatch(/could not be discovered: .*certificate/);
  });
});
