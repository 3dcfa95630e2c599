import type { Exchange } from '../pipeline/exchange.ts';

/**
 * Discovery paths: the legacy and aggregated group lists, one group, one group version's
 * resources, the server version and the OpenAPI indexes. What every client fetches first, and
 * what changes only when an API is added or removed.
 */
const DISCOVERY = /^\/(?:api|apis|version|openapi\/v2|openapi\/v3|api\/[a-z0-9]+|apis\/[a-z0-9.-]+(?:\/[a-z0-9]+)?)$/;

/**
 * The path to cache a discovery GET under, or `undefined` when it is not one. `timeout` (which
 * kubectl adds) is ignored; any other query parameter makes the request uncacheable.
 */
export function discoveryPath(exchange: Exchange): string | undefined {
  if (exchange.method !== 'GET' || exchange.upgrade || exchange.hasBody || exchange.request.isResourceRequest) return undefined;
  if (!DISCOVERY.test(exchange.pathname)) return undefined;
  const q = exchange.path.indexOf('?');
  if (q !== -1) {
    for (const name of new URLSearchParams(exchange.path.slice(q + 1)).keys()) if (name !== 'timeout') return undefined;
  }
  return exchange.pathname;
}

/** Whether a write changes the cluster's discovery: a CustomResourceDefinition or APIService created, changed or deleted. */
export function changesDiscovery(exchange: Exchange): boolean {
  const { request } = exchange;
  if (!request.isResourceRequest) return false;
  return (
    (request.apiGroup === 'apiextensions.k8s.io' && request.resource === 'customresourcedefinitions') ||
    (request.apiGroup === 'apiregistration.k8s.io' && request.resource === 'apiservices')
  );
}
