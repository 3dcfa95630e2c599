import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
// A namespace import: a named one would fail to link on Node < 22.15 before the version check runs.
import * as tls from 'node:tls';
import type { CustomFetch } from 'openid-client';

// Statuses whose Response must have a null body (the constructor throws otherwise).
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

function toResponse(res: IncomingMessage, body: Buffer): Response {
  const headers = new Headers();
  for (const [name, values] of Object.entries(res.headersDistinct)) {
    for (const value of values ?? []) headers.append(name, value);
  }
  const status = res.statusCode ?? 502;
  return new Response(NULL_BODY_STATUSES.has(status) ? null : body, { status, statusText: res.statusMessage ?? '', headers });
}

/**
 * The fetch that openid-client uses to reach an OIDC issuer over `node:http(s)`, trusting `ca`
 * (kubectl's `idp-certificate-authority`) besides Node's roots: the global fetch cannot be given a
 * CA without undici's own dispatcher. Redirects are not followed, as openid-client asks.
 */
export function createIssuerFetch(ca: string | Buffer | undefined): CustomFetch {
  // A `ca` replaces Node's trust store: keep its default one (bundled roots plus NODE_EXTRA_CA_CERTS).
  const trusted = ca === undefined ? undefined : [...tls.getCACertificates('default'), ca.toString()];
  return async (url, options) => {
    const target = new URL(url);
    // Normalizes every body type fetch accepts (form parameters, text, bytes) to bytes.
    const body = options.body === undefined || options.body === null ? undefined : Buffer.from(await new Response(options.body).arrayBuffer());
    return new Promise<Response>((resolve, reject) => {
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(
        target,
        { method: options.method, headers: options.headers, signal: options.signal, ...(trusted ? { ca: trusted } : {}) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve(toResponse(res, Buffer.concat(chunks))));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  };
}
