import type { Exchange } from '../pipeline/exchange.ts';

/**
 * Request headers that change the cluster's answer to the same identity and path: the media type
 * (JSON, Table and protobuf never mix), the compression, and the conditions. Two requests share
 * only when these are equal.
 */
const VARYING = ['accept', 'accept-encoding', 'accept-language', 'if-none-match', 'if-modified-since', 'range'] as const;

/** The query with its parameters in a stable order: `?b=1&a=2` and `?a=2&b=1` ask the same. */
export function sortedQuery(query: string): string {
  if (query === '') return '';
  const params = [...new URLSearchParams(query)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new URLSearchParams(params).toString();
}

/** What the headers that change an answer say, as one string. */
export function varyingHeaders(exchange: Exchange, names: readonly string[] = VARYING): string {
  return JSON.stringify(names.map((name) => exchange.headers[name] ?? null));
}

/** The key of a read: identity, path with its query in a stable order, and the headers that change the answer. */
export function readKey(exchange: Exchange, identity: string): string {
  const q = exchange.path.indexOf('?');
  const query = q === -1 ? '' : sortedQuery(exchange.path.slice(q + 1));
  return `${identity}\u0000${exchange.method}\u0000${exchange.pathname}?${query}\u0000${varyingHeaders(exchange)}`;
}

/**
 * Whether a request may share one upstream request with its identical twins: a GET that is no
 * watch, no followed log, no upgrade and carries no body, and is not for logs or a `proxy`
 * subresource (whose answers are the workload's, not the API server's, and may stream).
 */
export function isSharableRead(exchange: Exchange): boolean {
  if (exchange.method !== 'GET' || exchange.upgrade || exchange.streaming || exchange.hasBody) return false;
  const { request } = exchange;
  if (!request.isResourceRequest) return true;
  return (request.verb === 'get' || request.verb === 'list') && request.subresource !== 'log' && request.subresource !== 'proxy';
}
