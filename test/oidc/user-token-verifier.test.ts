import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateClusterConfig } from '../../src/clusters/cluster-config.ts';
import { ClusterProxyError } from '../../src/errors.ts';
import { createUserTokenVerifier } from '../../src/oidc/user-token-verifier.ts';
import { jsonIssuer, startHungServer, startIssuer, type TestServer } from '../helpers/issuers.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

let keys: Awaited<ReturnType<typeof generateKeyPair>>;
let jwk: Record<string, unknown>;
beforeAll(async () => {
  keys = await generateKeyPair('RS256');
  jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
});

async function serve(handler: Parameters<typeof startIssuer>[0]): Promise<string> {
  const server = await startIssuer(handler);
  servers.push(server);
  return server.url;
}

/** An issuer whose discovery document and key set are `documents` (defaults: a valid pair). */
const issuerWith = (documents: (issuer: string) => Record<string, unknown> = () => ({})) =>
  serve(jsonIssuer((issuer) => ({ '/.well-known/openid-configuration': { issuer, jwks_uri: `${issuer}/jwks` }, '/jwks': { keys: [jwk] }, ...documents(issuer) })));

function verifier(issuer: string) {
  const cluster = validateClusterConfig(
    { name: 'prod', server: 'https://cluster.invalid', credentials: { token: 'sa' }, authMode: 'impersonate', impersonation: { issuer, audience: 'kube', usernamePrefix: 'oidc:', groupsPrefix: 'oidc:' } },
    'cluster',
  );
  return createUserTokenVerifier(cluster, cluster.impersonation!, { timeoutMs: 300 });
}

const sign = (issuer: string, claims: JWTPayload = {}, header: { alg: string; kid?: string } = { alg: 'RS256', kid: 'k1' }) =>
  new SignJWT({ iss: issuer, aud: 'kube', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 300, sub: 'alice', groups: ['dev'], ...claims })
    .setProtectedHeader(header)
    .sign(keys.privateKey);

async function refusal(promise: Promise<unknown>): Promise<ClusterProxyError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof ClusterProxyError)) throw new Error(`expected a ClusterProxyError, got ${String(error)}`);
  return error;
}

describe('createUserTokenVerifier', () => {
  it('verifies a token with the key set named by the discovery document, and maps its claims', async () => {
    const issuer = await issuerWith();
    expect(await verifier(issuer).verify(await sign(issuer))).toEqual({ user: 'oidc:alice', groups: ['oidc:dev'] });
  });

  it('answers 503 within the timeout when the issuer accepts and never answers, and tries again later', async () => {
    const hung = await startHungServer();
    servers.push(hung);
    const verify = verifier(hung.url);
    const error = await refusal(verify.verify(await sign(hung.url)));
    expect(error.statusCode).toBe(503);
    expect(error.cluster).toBe('prod');
    expect(error.headers['retry-after']).toBe('5');
    expect(error.message).toMatch(`the signing keys of ${hung.url} could not be fetched: ${hung.url}/.well-known/openid-configuration did not answer within 300 ms`);
    await refusal(verify.verify(await sign(hung.url)));
    expect(hung.connections).toBe(2);
  }, 5_000);

  it('answers 503 within the timeout when the key set hangs', async () => {
    const hung = await startHungServer();
    servers.push(hung);
    const issuer = await issuerWith((iss) => ({ '/.well-known/openid-configuration': { issuer: iss, jwks_uri: `${hung.url}/jwks` } }));
    const error = await refusal(verifier(issuer).verify(await sign(issuer)));
    expect(error.statusCode).toBe(503);
    expect(error.message).toMatch(/did not answer within 300 ms/);
  }, 5_000);

  it.each<[string, (issuer: string) => Record<string, unknown>, RegExp]>([
    ['an oversized discovery document', (iss) => ({ '/.well-known/openid-configuration': { issuer: iss, jwks_uri: `${iss}/jwks`, padding: 'x'.repeat(1024 * 1024) } }), /openid-configuration is larger than 1048576 bytes/],
    ['a discovery document without jwks_uri', (iss) => ({ '/.well-known/openid-configuration': { issuer: iss } }), /names no http\(s\) jwks_uri/],
    ['a jwks_uri that is not http(s)', (iss) => ({ '/.well-known/openid-configuration': { issuer: iss, jwks_uri: 'file:///etc/passwd' } }), /names no http\(s\) jwks_uri/],
    ['a discovery document for another issuer', () => ({ '/.well-known/openid-configuration': { issuer: 'https://evil.example', jwks_uri: 'https://evil.example/jwks' } }), /issuer/],
    ['a key set that is missing', (iss) => ({ '/.well-known/openid-configuration': { issuer: iss, jwks_uri: `${iss}/gone` } }), /answered HTTP 404/],
    ['a key set that is not a key set', () => ({ '/jwks': { keys: 'none' } }), /could not be fetched/],
    ['a key set that is not JSON', () => ({ '/jwks': '<html>' }), /could not be fetched/],
    ['an oversized key set', () => ({ '/jwks': { keys: [jwk], padding: 'x'.repeat(1024 * 1024) } }), /jwks is larger than 1048576 bytes/],
  ])('answers 503, not 401, for %s', async (_what, documents, message) => {
    const issuer = await issuerWith(documents);
    const error = await refusal(verifier(issuer).verify(await sign(issuer)));
    expect(error.statusCode).toBe(503);
    expect(error.message).toMatch(message);
  });

  it.each<[string, (issuer: string) => Promise<string>, RegExp]>([
    ['a key the issuer does not have', (iss) => sign(iss, {}, { alg: 'RS256', kid: 'other' }), /not a valid token/],
    ['an algorithm a key set cannot hold', async (iss) => new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(iss).setAudience('kube').setExpirationTime('5m').sign(new Uint8Array(32)), /not a valid token/],
    ['another audience', (iss) => sign(iss, { aud: 'other' }), /aud claim is not accepted/],
    ['no user claim', (iss) => sign(iss, { sub: undefined }), /no "sub" claim/],
    ['a control character in a group', (iss) => sign(iss, { groups: ['a\nb'] }), /control characters/],
  ])('answers 401 for %s', async (_what, token, message) => {
    const issuer = await issuerWith();
    const error = await refusal(verifier(issuer).verify(await token(issuer)));
    expect(error.statusCode).toBe(401);
    expect(error.message).toMatch(message);
  });
});
