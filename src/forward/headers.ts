import type { IncomingHttpHeaders } from 'node:http';

/**
 * Hop-by-hop headers (RFC 9110 section 7.6.1) plus the legacy ones proxies still see. They describe
 * one connection (client to proxy, or proxy to cluster) and must not cross the proxy. `expect` is
 * here too: Node's server already answered `100 Continue` to the client, so a cluster asked again
 * would only delay the body.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'http2-settings',
]);

/**
 * Message framing is the proxy's, never the client's: these are set from what Node parsed and are
 * immune to a `Connection` listing (`Connection: content-length` would otherwise leave a body
 * unframed on a pooled upstream connection, where the cluster reads it as a second request).
 */
const FRAMING = new Set(['content-length', 'transfer-encoding']);

const NO_TOKENS: ReadonlySet<string> = new Set();

/**
 * Sets for the values nearly every request and response carries, made once: the hot path would
 * otherwise split and allocate for `Connection: keep-alive` on every response.
 */
const COMMON = new Map<string, ReadonlySet<string>>(['keep-alive', 'close', 'upgrade', 'Upgrade', 'Keep-Alive', 'Close'].map((v) => [v, new Set([v.toLowerCase()])]));

/**
 * The lowercase tokens of a `Connection` header (RFC 9110 section 7.6.1: a comma-separated list),
 * so that `x-upgrade` is never mistaken for `upgrade`. Read-only: common values share one set.
 */
export function connectionTokens(connection: string | string[] | undefined): ReadonlySet<string> {
  if (connection === undefined) return NO_TOKENS;
  const common = typeof connection === 'string' ? COMMON.get(connection) : undefined;
  if (common) return common;
  const tokens = new Set<string>();
  for (const part of String(connection).split(',')) {
    const token = part.trim().toLowerCase();
    if (token !== '') tokens.add(token);
  }
  return tokens;
}

/** Whether a request carries a body, as Node's parser framed it. */
export function hasRequestBody(headers: IncomingHttpHeaders): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
}

/** What to leave out of the request to the cluster, besides hop-by-hop headers. */
export interface RequestHeaderFilter {
  /** An upgrade keeps `Connection: Upgrade` and `Upgrade`, and carries no body. */
  upgrade: boolean;
  /** Drop every `Impersonate-*` header: the cluster's own credentials are used, which a client must not borrow. */
  dropImpersonation: boolean;
}

/**
 * The headers to send to the cluster: a new object (deleting from the parsed headers would make
 * every later copy of them slower), without hop-by-hop headers or those the client's `Connection`
 * lists, without `Cookie`, `Authorization` and the WebSocket subprotocol header (the pipeline sets
 * those itself), without `Impersonate-*` when asked, and with the body's framing as Node parsed it.
 */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders, filter: RequestHeaderFilter): IncomingHttpHeaders {
  const listed = headers.connection === undefined ? undefined : connectionTokens(headers.connection);
  const out: IncomingHttpHeaders = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || FRAMING.has(name) || name === 'cookie' || name === 'authorization' || name === 'sec-websocket-protocol') continue;
    if (listed?.has(name) || (filter.dropImpersonation && name.startsWith('impersonate-'))) continue;
    out[name] = headers[name];
  }
  if (filter.upgrade) {
    if (headers.upgrade !== undefined) {
      out.connection = 'Upgrade';
      out.upgrade = headers.upgrade;
    }
  } else if (headers['transfer-encoding'] !== undefined) {
    // Node's parser accepted only a chunked body; it hands the forwarder the decoded bytes.
    out['transfer-encoding'] = 'chunked';
  } else if (headers['content-length'] !== undefined) {
    out['content-length'] = headers['content-length'];
  }
  return out;
}

/**
 * The cluster's response headers to send to the client: a new object without hop-by-hop headers;
 * its `Connection: keep-alive` and `Keep-Alive: timeout=5` describe its connection to the proxy,
 * not the proxy's to the client. The response's framing is Node's to set for the client.
 */
export function clientResponseHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const listed = headers.connection === undefined ? undefined : connectionTokens(headers.connection);
  const out: IncomingHttpHeaders = {};
  for (const name in headers) {
    if (!HOP_BY_HOP.has(name) && !(listed?.has(name) && !FRAMING.has(name))) out[name] = headers[name];
  }
  return out;
}
