import * as client from 'openid-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createCertificateAuthority } from 'kube-cluster-proxy/testing';
import { createIssuerClient, describeIssuerError, isInvalidGrant } from '../../src/oidc/issuer-client.ts';
import { discoverIssuer } from '../../src/oidc/issuer-discovery.ts';
import { jsonIssuer, startHungServer, startIssuer, type TestServer } from '../helpers/issuers.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** An issuer counting its discovery requests. */
async function countingIssuer(document: (issuer: string) => unknown, tls?: { cert: string; key: string }) {
  let discoveries = 0;
  const server = await startIssuer(
    (issuer) => (req, res) => {
      if (req.url !== '/.well-known/openid-configuration') return void res.writeHead(404).end();
      discoveries++;
      const body = document(issuer);
      res.writeHead(200, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
    },
    tls,
  );
  servers.push(server);
  return { url: server.url, discoveries: () => discoveries };
}

/** Why discovery failed, as the proxy words it for a Status message. */
async function failure(issuer: string, options?: Parameters<typeof discoverIssuer>[1]): Promise<string> {
  const error = await discoverIssuer({ issuer }, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error === undefined) throw new Error('discovery succeeded');
  return describeIssuerError(error);
}

describe('discoverIssuer', () => {
  it('discovers once per issuer for every client, and again for another CA', async () => {
    const authority = createCertificateAuthority({ commonName: 'idp-ca' });
    const idp = await countingIssuer((issuer) => ({ issuer, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks` }), authority.issue({ commonName: 'idp', ipAddresses: ['127.0.0.1'], usage: 'server' }));
    const [a, b] = await Promise.all([discoverIssuer({ issuer: idp.url, ca: authority.cert }), discoverIssuer({ issuer: idp.url, ca: authority.cert })]);
    expect(a.jwks_uri).toBe(`${idp.url}/jwks`);
    expect(b).toBe(a);
    await createIssuerClient({ issuer: idp.url, clientId: 'x', ca: authority.cert }).configuration();
    expect(idp.discoveries()).toBe(1);
    // Without the CA the issuer is untrusted: that is another cache entry, and it fails.
    await expect(discoverIssuer({ issuer: idp.url })).rejects.toThrow();
  });

  it('does not keep a failed discovery: an issuer that comes back is used', async () => {
    let up = false;
    const idp = await countingIssuer((issuer) => (up ? { issuer, token_endpoint: `${issuer}/token` } : 'not yet'));
    await expect(discoverIssuer({ issuer: idp.url })).rejects.toThrow();
    up = true;
    expect((await discoverIssuer({ issuer: idp.url })).token_endpoint).toBe(`${idp.url}/token`);
    expect(idp.discoveries()).toBe(2);
  });

  it.each<[string, (issuer: string) => unknown, RegExp]>([
    ['not JSON', () => '<html>login</html>', /is not valid JSON/],
    ['a JSON array', () => '[1, 2]', /must be a top level object/],
    ['JSON null', () => 'null', /must be a top level object/],
    ['no issuer', () => ({ token_endpoint: 'x' }), /issuer/],
    ['another issuer', () => ({ issuer: 'https://evil.example' }), /issuer/],
    ['an issuer of the wrong type', () => ({ issuer: 42 }), /issuer/],
  ])('refuses a discovery document that is %s, saying why', async (_what, document, message) => {
    const idp = await countingIssuer(document);
    expect(await failure(idp.url)).toMatch(message);
  });

  it('refuses a failing discovery endpoint, with its status', async () => {
    const server = await startIssuer(() => (_req, res) => res.writeHead(500, { 'content-type': 'application/json' }).end('{}'));
    servers.push(server);
    expect(await failure(server.url)).toMatch(/HTTP 500/);
  });

  it('refuses a discovery document over the size bound', async () => {
    const idp = await countingIssuer((issuer) => ({ issuer, padding: 'x'.repeat(2 * 1024 * 1024) }));
    expect(await failure(idp.url)).toMatch(/\/\.well-known\/openid-configuration is larger than 1048576 bytes/);
  });

  it('gives up on a hung issuer within the timeout', async () => {
    const hung = await startHungServer();
    servers.push(hung);
    expect(await failure(hung.url, { timeoutMs: 300 })).toMatch(/did not answer within 300 ms/);
  }, 5_000);
});

describe('createIssuerClient', () => {
  it('builds a configuration from the shared metadata, bounded like discovery', async () => {
    const tokenRequests: string[] = [];
    const server = await startIssuer((issuer) => (req, res) => {
      if (req.url === '/.well-known/openid-configuration') return void jsonIssuer((iss) => ({ '/.well-known/openid-configuration': { issuer: iss, token_endpoint: `${iss}/token` } }))(issuer)(req, res);
      tokenRequests.push(req.url ?? '');
      // The token endpoint hangs: the grant must fail in time, not hold the caller.
    });
    servers.push(server);
    const issuerClient = createIssuerClient({ issuer: server.url, clientId: 'dashboard', timeoutMs: 300 });
    const configuration = await issuerClient.configuration();
    expect(configuration.serverMetadata().token_endpoint).toBe(`${server.url}/token`);
    expect(await issuerClient.configuration()).toBe(configuration);
    const error = await client.refreshTokenGrant(configuration, 'r').then(() => undefined, (e: unknown) => e);
    expect(describeIssuerError(error)).toMatch(/did not answer within 300 ms/);
    expect(tokenRequests).toEqual(['/token']);
  }, 5_000);

  it('tells invalid_grant from other refusals', async () => {
    const server = await startIssuer((issuer) => (req, res) => {
      if (req.url === '/.well-known/openid-configuration') return void res.end(JSON.stringify({ issuer, token_endpoint: `${issuer}/token` }));
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: req.headers.authorization ? 'invalid_grant' : 'invalid_client' }));
    });
    servers.push(server);
    const refuse = async (clientSecret?: string) => {
      const configuration = await createIssuerClient({ issuer: server.url, clientId: 'c', clientSecret }).configuration();
      return client.refreshTokenGrant(configuration, 'r').then(() => undefined, (e: unknown) => e);
    };
    const withSecret = await refuse('s');
    expect(isInvalidGrant(withSecret)).toBe(true);
    expect(describeIssuerError(withSecret)).toBe('HTTP 400 invalid_grant');
    expect(isInvalidGrant(await refuse())).toBe(false);
    expect(isInvalidGrant(new Error('invalid_grant'))).toBe(false);
  });
});
