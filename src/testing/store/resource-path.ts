import { booleanParameter } from '../query.ts';
import type { RequestAttributes } from '../authorization.ts';

/** A request for a resource, as kube-apiserver's RequestInfo resolves the path. */
export interface ResourceRequest {
  readonly group: string;
  readonly version: string;
  /** `''` for cluster-scoped requests (and lists across all namespaces). */
  readonly namespace: string;
  readonly resource: string;
  readonly name: string;
  readonly subresource: string;
  /** The path or `?watch=true` asks for a watch. */
  readonly watch: boolean;
}

/**
 * Resolves `/api/v1/...` and `/apis/<group>/<version>/...` paths (also the legacy `/watch/` ones);
 * `undefined` for discovery and other non-resource paths.
 */
export function parseResourcePath(segments: readonly string[], query: URLSearchParams): ResourceRequest | undefined {
  let rest: string[];
  let group: string;
  let version: string;
  if (segments[0] === 'api' && segments.length >= 3) {
    [group, version, rest] = ['', segments[1] ?? '', segments.slice(2)];
  } else if (segments[0] === 'apis' && segments.length >= 4) {
    [group, version, rest] = [segments[1] ?? '', segments[2] ?? '', segments.slice(3)];
  } else {
    return undefined;
  }
  let watch = false;
  if (rest[0] === 'watch') {
    watch = true;
    rest = rest.slice(1);
  }
  let namespace = '';
  // namespaces/<name> alone (or with status/finalize) is the Namespace itself, not a namespace prefix.
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
    namespace = rest[1] ?? '';
    rest = rest.slice(2);
  }
  const [resource, name = '', subresource = '', ...extra] = rest;
  if (resource === undefined || resource === '' || extra.length > 0) return undefined;
  if (!watch && name === '' && query.get('watch') !== null) watch = booleanParameter(query, 'watch');
  return { group, version, namespace, resource, name, subresource, watch };
}

/** The RBAC verb of a request: get, list, watch, create, update, patch, delete or deletecollection. */
function requestVerb(method: string, request: ResourceRequest): string {
  switch (method) {
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return request.name === '' ? 'deletecollection' : 'delete';
    default:
      if (request.watch) return 'watch';
      return request.name === '' ? 'list' : 'get';
  }
}

/** What a request asks, for authorization; exec, attach and port-forward take `create` whatever the method. */
export function requestAttributes(method: string, path: string, request: ResourceRequest | undefined): RequestAttributes {
  if (!request) return { resourceRequest: false, verb: method === 'HEAD' ? 'get' : method.toLowerCase(), path };
  const streaming = request.resource === 'pods' && ['exec', 'attach', 'portforward'].includes(request.subresource);
  return {
    resourceRequest: true,
    verb: streaming ? 'create' : requestVerb(method, request),
    group: request.group,
    resource: request.resource,
    subresource: request.subresource,
    namespace: request.namespace || (request.resource === 'namespaces' && request.group === '' ? request.name : ''),
    name: request.name,
  };
}
