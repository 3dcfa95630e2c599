import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
// A namespace import: a named import of getCACertificates (Node >= 22.15) would fail at link time on older
// Node, before the version guard could say what is wrong.
import * as tls from 'node:tls';
import type { CustomFetch } from 'openid-client';

/** How requests to an OIDC issuer are bounded. */
export interface IssuerRequestOptions {
  /**
   * How long one request to the issuer (discovery, keys, token grant) may take, from connecting to
   * the end of its body, in ms. Default `10_000`. A hung issuer then fails the request (`503`)
   * instead of holding it, and every request behind it.
   */
  timeoutMs?: number;
  /** Largest response body accepted from the issuer, in bytes. Default `1_048_576` (1 MiB). */
  maxBodyBytes?: number;
}

export const ISSUER_REQUEST_DEFAULTS = {
  timeoutMs: 10_000,
  maxBodyBytes: 1024 * 1024,
} as const satisfies Required<IssuerRequestOptions>;

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

/** The issuer's URL without its query, for messages: enough to say which endpoint failed. */
const endpointOf = (url: URL) => `${url.origin}${url.pathname}`;

/**
 * The fetch that openid-client and jose use to reach an OIDC issuer over `node:http(s)`, trusting
 * `ca` (kubectl's `idp-certificate-authority`) besides Node's roots: the global fetch cannot be
 * given a CA without undici's own dispatcher. Redirects are not followed, as openid-client asks.
 * Every request ends within `timeoutMs` and reads at most `maxBodyBytes`: the issuer is a remote
 * party, and its answers are buffered.
 */
export function createIssuerFetch(ca: string | Buffer | undefined, options: IssuerRequestOptions = {}): CustomFetch {
  const timeoutMs = options.timeoutMs ?? ISSUER_REQUEST_DEFAULTS.timeoutMs;
  const maxBodyBytes = options.maxBodyBytes ?? ISSUER_REQUEST_DEFAULTS.maxBodyBytes;
  // A `ca` replaces Node's trust store: keep its default one (bundled roots plus NODE_EXTRA_CA_CERTS).
  const trusted = ca === undefined ? undefined : [...tls.getCACertificates('default'), ca.toString()];
  return async (url, init) => {
    const target = new URL(url);
    const timedOut = () => new Error(`${endpointOf(target)} did not answer within ${timeoutMs} ms`);
    // Normalizes every body type fetch accepts (form parameters, text, bytes) to bytes.
    const body = init.body === undefined || init.body === null ? undefined : Buffer.from(await new Response(init.body).arrayBuffer());
    return new Promise<Response>((resolve, reject) => {
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      let settled = false;
      const finish = (error: Error | undefined, response?: Response) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) {
          req.destroy();
          reject(error);
        } else {
          resolve(response!);
        }
      };
      // The caller's own deadline (openid-client's, jose's) reads the same: they are given timeoutMs too.
      const timer = setTimeout(() => finish(timedOut()), timeoutMs);
      const tooLarge = () => new Error(`the answer of ${endpointOf(target)} is larger than ${maxBodyBytes} bytes`);
      const req = send(
        target,
        { method: init.method, headers: init.headers, signal: init.signal, ...(trusted ? { ca: trusted } : {}) },
        (res) => {
          if (Number(res.headers['content-length']) > maxBodyBytes) return finish(tooLarge());
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBodyBytes) finish(tooLarge());
            else chunks.push(chunk);
          });
          res.on('end', () => finish(undefined, toResponse(res, Buffer.concat(chunks))));
          res.on('error', (error) => finish(error));
        },
      );
      req.on('error', (error) => finish((init.signal?.reason as { name?: unknown } | undefined)?.name === 'TimeoutError' ? timedOut() : error));
      req.end(body);
    });
  };
}
