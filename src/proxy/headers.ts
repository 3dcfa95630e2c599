import type { IncomingHttpHeaders } from 'node:http';

/**
 * Hop-by-hop headers (RFC 9110 section 7.6.1) plus the legacy ones proxies still see. They describe
 * the connection between the client and the proxy and must not reach the cluster.
 * `transfer-encoding` is left alone: Node's client uses it to frame a forwarded body.
 */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade'];

/** Removes the hop-by-hop headers, keeping `Connection: Upgrade` and `Upgrade` on an upgrade. */
export function removeHopByHopHeaders(headers: IncomingHttpHeaders, upgrade: boolean): void {
  const upgradeToken = headers.upgrade;
  for (const listed of String(headers.connection ?? '').split(',')) {
    const name = listed.trim().toLowerCase();
    if (name !== '' && name !== 'upgrade' && name !== 'transfer-encoding') delete headers[name];
  }
  for (const name of HOP_BY_HOP) delete headers[name];
  if (upgrade && upgradeToken !== undefined) {
    headers.connection = 'Upgrade';
    headers.upgrade = upgradeToken;
  }
}

/**
 * Removes the cluster's hop-by-hop response headers: its `Connection: keep-alive` and
 * `Keep-Alive: timeout=5` describe its connection to the proxy, not the proxy's to the client.
 */
export function removeHopByHopResponseHeaders(headers: IncomingHttpHeaders): void {
  for (const listed of String(headers.connection ?? '').split(',')) {
    const name = listed.trim().toLowerCase();
    if (name !== '' && name !== 'transfer-encoding') delete headers[name];
  }
  for (const name of ['connection', 'keep-alive', 'proxy-connection', 'trailer', 'upgrade']) delete headers[name];
}

/** Removes every `Impersonate-*` header, so that a client cannot borrow the proxy's identity. */
export function removeImpersonationHeaders(headers: IncomingHttpHeaders): void {
  for (const name of Object.keys(headers)) {
    if (name.startsWith('impersonate-')) delete headers[name];
  }
}
