import type { IncomingHttpHeaders } from 'node:http';

/**
 * Hop-by-hop headers (RFC 9110 section 7.6.1) plus the legacy ones proxies still see. They describe
 * one connection (client to proxy, or proxy to cluster) and must not cross the proxy.
 * `transfer-encoding` is left alone: Node uses it to frame a forwarded body.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade']);

/** The header names a `Connection` header lists as hop-by-hop for this connection. */
function listedIn(connection: string | string[] | undefined): Set<string> | undefined {
  if (connection === undefined) return undefined;
  const names = String(connection)
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter((n) => n !== '' && n !== 'transfer-encoding' && n !== 'close' && n !== 'keep-alive' && n !== 'upgrade');
  return names.length === 0 ? undefined : new Set(names);
}

/** What to leave out of the request to the cluster, besides hop-by-hop headers. */
export interface RequestHeaderFilter {
  /** An upgrade keeps `Connection: Upgrade` and `Upgrade`. */
  upgrade: boolean;
  /** Drop every `Impersonate-*` header: the cluster's own credentials are used, which a client must not borrow. */
  dropImpersonation: boolean;
}

/**
 * The headers to send to the cluster: a new object (deleting from the parsed headers would make
 * every later copy of them slower), without hop-by-hop headers, `Cookie`, `Authorization` and the
 * WebSocket subprotocol header (the pipeline sets those two itself), and without `Impersonate-*`
 * when asked.
 */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders, filter: RequestHeaderFilter): IncomingHttpHeaders {
  const listed = listedIn(headers.connection);
  const out: IncomingHttpHeaders = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || name === 'cookie' || name === 'authorization' || name === 'sec-websocket-protocol') continue;
    if (listed?.has(name) || (filter.dropImpersonation && name.startsWith('impersonate-'))) continue;
    out[name] = headers[name];
  }
  if (filter.upgrade && headers.upgrade !== undefined) {
    out.connection = 'Upgrade';
    out.upgrade = headers.upgrade;
  }
  return out;
}

/**
 * The cluster's response headers to send to the client: a new object without hop-by-hop headers;
 * its `Connection: keep-alive` and `Keep-Alive: timeout=5` describe its connection to the proxy,
 * not the proxy's to the client.
 */
export function clientResponseHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const listed = listedIn(headers.connection);
  const out: IncomingHttpHeaders = {};
  for (const name in headers) {
    if (!HOP_BY_HOP.has(name) && !listed?.has(name)) out[name] = headers[name];
  }
  return out;
}
