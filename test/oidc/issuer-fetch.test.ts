import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createCertificateAuthority } from 'kube-cluster-proxy/testing';
import { createIssuerFetch } from '../../src/oidc/issuer-fetch.ts';
import { startHungServer, startIssuer, type TestServer } from '../helpers/issuers.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function issuer(...args: Parameters<typeof startIssuer>): Promise<string> {
  const server = await startIssuer(...args);
  servers.push(server);
  return server.url;
}

const get = (fetch: ReturnType<typeof createIssuerFetch>, url: string, signal?: AbortSignal) =>
  fetch(url, { method: 'GET', headers: { accept: 'application/json' }, body: undefined, redirect: 'manual', ...(signal ? { signal } : {}) });

describe('createIssuerFetch', () => {
  it('answers the status, headers and body of the issuer, and sends the request body', async () => {
    const url = await issuer(() => (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => res.writeHead(201, { 'x-seen': `${req.method} ${req.headers['content-type']}` }).end(Buffer.concat(chunks)));
    });
    const response = await createIssuerFetch(undefined)(`${url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token' }),
      redirect: 'manual',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-seen')).toBe('POST application/x-www-form-urlencoded');
    expect(await response.text()).toBe('grant_type=refresh_token');
  });

  it('does not follow redirects', async () => {
    const url = await issuer(() => (_req, res) => res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end());
    const response = await get(createIssuerFetch(undefined), `${url}/.well-known/openid-configuration`);
    expect(response.status).toBe(302);
  });

  it('fails a request to a server that accepts and never answers, naming the endpoint and the timeout', async () => {
    const hung = await startHungServer();
    servers.push(hung);
    await expect(get(createIssuerFetch(undefined, { timeoutMs: 200 }), `${hung.url}/.well-known/openid-configuration?x=1`)).rejects.toThrow(
      `${hung.url}/.well-known/openid-configuration did not answer within 200 ms`,
    );
    expect(hung.connections).toBe(1);
  }, 5_000);

  it('fails a body that keeps trickling past the timeout', async () => {
    const url = await issuer(() => (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"issuer":');
      // Never ends: the headers came in time, the body does not.
    });
    await expect(get(createIssuerFetch(undefined, { timeoutMs: 200 }), `${url}/jwks`)).rejects.toThrow(/did not answer within 200 ms/);
  }, 5_000);

  it('reports the caller’s own deadline in the same words', async () => {
    const hung = await startHungServer();
    servers.push(hung);
    await expect(get(createIssuerFetch(undefined, { timeoutMs: 5_000 }), `${hung.url}/jwks`, AbortSignal.timeout(100))).rejects.toThrow(/did not answer within 5000 ms/);
  }, 5_000);

  it.each([
    ['declared by Content-Length', (size: number) => (_req: unknown, res: ServerResponse) => res.writeHead(200, { 'content-length': size }).end('x'.repeat(size))],
    ['chunked, without a length', (size: number) => (_req: unknown, res: ServerResponse) => {
      res.writeHead(200);
      for (let sent = 0; sent < size; sent += 1000) res.write('x'.repeat(1000));
      res.end();
    }],
  ])('refuses a body over maxBodyBytes (%s) and accepts one at the limit', async (_how, answer) => {
    const big = await issuer(() => answer(10_001));
    await expect(get(createIssuerFetch(undefined, { maxBodyBytes: 10_000 }), `${big}/keys`)).rejects.toThrow(`the answer of ${big}/keys is larger than 10000 bytes`);
    const fits = await issuer(() => answer(10_000));
    expect((await (await get(createIssuerFetch(undefined, { maxBodyBytes: 10_000 }), `${fits}/keys`)).text()).length).toBe(10_000);
  });

  it('answers a body-less status without a body', async () => {
    const url = await issuer(() => (_req, res) => res.writeHead(204).end());
    const response = await get(createIssuerFetch(undefined), url);
    expect(response.status).toBe(204);
    expect(response.body).toBeNull();
  });

  it('trusts the given CA besides the default ones, and only then', async () => {
    const authority = createCertificateAuthority({ commonName: 'issuer-ca' });
    const url = await issuer(() => (_req, res) => res.end('{}'), authority.issue({ commonName: 'idp', ipAddresses: ['127.0.0.1'], usage: 'server' }));
    expect((await get(createIssuerFetch(authority.cert), url)).status).toBe(200);
    await expect(get(createIssuerFetch(undefined), url)).rejects.toThrow(/certificate/);
  });

  it('fails a refused connection with the system error', async () => {
    await expect(get(createIssuerFetch(undefined), 'http://127.0.0.1:1/x')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
