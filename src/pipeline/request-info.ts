import { nameFromFieldSelector } from './field-selector.ts';
import { percentDecode, queryValue } from './url-decoding.ts';

/**
 * What a request is in Kubernetes terms, read from its method, path and query the way
 * kube-apiserver's RequestInfoFactory reads them before it authorizes anything. Policy, metrics and
 * audit all key on this, so it must agree with the API server: a rule about `pods/exec` has to see
 * exactly what the server will run, however the path is spelled.
 */

/** Kubernetes verbs a resource request can have; `''` for an HTTP method the API does not map (OPTIONS). */
export type ResourceVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'proxy' | '';

interface RequestInfoFields {
  /** The URL path, percent-decoded as the API server decodes it, without the query. */
  readonly path: string;
  /** `'api'` (the core group) or `'apis'` (named groups); `''` for a non-resource request. */
  readonly apiPrefix: string;
  /** The API group (`'apps'`, `'batch'`); `''` for the core group and for non-resource requests. */
  readonly apiGroup: string;
  /** The API version (`'v1'`); `''` for a non-resource request. */
  readonly apiVersion: string;
  /** The namespace; `''` for cluster-scoped resources and all-namespace lists. For `namespaces/<ns>` itself: `<ns>`. */
  readonly namespace: string;
  /** The resource, plural and lowercase as in the URL (`'pods'`, `'deployments'`); not the kind. */
  readonly resource: string;
  /** The subresource (`'exec'`, `'attach'`, `'portforward'`, `'log'`, `'proxy'`, `'status'`, `'scale'`); `''` for none. */
  readonly subresource: string;
  /**
   * The object's name; `''` for collections. A list or watch whose field selector requires
   * `metadata.name=<name>` gets that name, as in kube-apiserver.
   */
  readonly name: string;
  /**
   * The path segments from the resource on: `[resource, name, subresource, ...rest]`. The rest is
   * what the API server does not interpret, such as the path behind a `proxy` subresource.
   * Empty for a non-resource request.
   */
  readonly parts: readonly string[];
}

/** A request for an API resource or subresource: under `/api/<version>/` or `/apis/<group>/<version>/`. */
export interface ResourceRequestInfo extends RequestInfoFields {
  readonly isResourceRequest: true;
  /**
   * The Kubernetes verb: from the method (POST `create`, PUT `update`, PATCH `patch`, GET and HEAD
   * `get`, DELETE `delete`), then `list` or `watch` (`?watch=1` or `true`) for a GET without a name,
   * `deletecollection` for a DELETE without one; `watch` or `proxy` for the legacy
   * `/api/v1/watch/...` and `/api/v1/proxy/...` prefixes. Exec, attach and port-forward are `get`
   * over WebSocket and `create` over SPDY: look at `subresource` too.
   */
  readonly verb: ResourceVerb;
  readonly apiPrefix: 'api' | 'apis';
}

/** Anything else: discovery (`/api`, `/apis`, `/apis/apps`, `/api/v1`), `/version`, `/healthz`, `/openapi/v3`, `/metrics`. */
export interface NonResourceRequestInfo extends RequestInfoFields {
  readonly isResourceRequest: false;
  /** The HTTP method in lowercase (`'get'`, `'head'`, `'post'`), as kube-apiserver has it. */
  readonly verb: string;
  readonly apiPrefix: '';
}

/** A request as the Kubernetes API server reads it before authorizing: see {@link parseRequestInfo}. */
export type RequestInfo = ResourceRequestInfo | NonResourceRequestInfo;

const NO_PARTS: readonly string[] = Object.freeze([]);

function lowerMethod(method: string): string {
  // The common methods without allocating a lowercased copy each time.
  switch (method) {
    case 'GET':
      return 'get';
    case 'HEAD':
      return 'head';
    case 'POST':
      return 'post';
    case 'PUT':
      return 'put';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    case 'OPTIONS':
      return 'options';
    default:
      return method.toLowerCase();
  }
}

function methodVerb(method: string): ResourceVerb {
  // Case-sensitive, as Go's switch on req.Method: a lowercase method maps to no verb.
  switch (method) {
    case 'POST':
      return 'create';
    case 'GET':
    case 'HEAD':
      return 'get';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return '';
  }
}

function nonResource(method: string, path: string): NonResourceRequestInfo {
  return {
    isResourceRequest: false,
    path,
    verb: lowerMethod(method),
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: NO_PARTS,
  };
}

/** Where the segment starting at `from` ends: the next `/` before `end`, or `end`. */
function segmentEnd(s: string, from: number, end: number): number {
  const slash = s.indexOf('/', from);
  return slash === -1 || slash >= end ? end : slash;
}

function isSegment(s: string, from: number, stop: number, word: string): boolean {
  return stop - from === word.length && s.startsWith(word, from);
}

function paramOf(query: string | URLSearchParams | undefined, key: string): string | undefined {
  if (typeof query === 'string') {
    // Without its letters a key can only be spelled with escapes: most queries need no scan.
    if (!query.includes(key) && !query.includes('%')) return undefined;
    return queryValue(query.startsWith('?') ? query.slice(1) : query, key);
  }
  if (query instanceof URLSearchParams) return query.get(key) ?? undefined;
  return undefined;
}

/** Go's `strconv`-style bool of the apimachinery conversion: present and not `0`/`false` is true. */
function isTrue(value: string | undefined): boolean {
  return value !== undefined && value !== '0' && value.toLowerCase() !== 'false';
}

/**
 * Reads a request the way kube-apiserver does before authorizing it (its RequestInfoFactory):
 * resource or not, the Kubernetes verb, API group and version, namespace, resource, subresource
 * and name.
 *
 * - `/api/v1/namespaces/default/pods/web-1/exec?command=sh` over GET (WebSocket) is
 *   `{ verb: 'get', resource: 'pods', subresource: 'exec', name: 'web-1', namespace: 'default' }`;
 *   over POST (SPDY) its verb is `create`.
 * - `/apis/apps/v1/deployments?watch=1` is `{ verb: 'watch', apiGroup: 'apps', resource: 'deployments' }`.
 * - `/api/v1/namespaces/prod` is `{ resource: 'namespaces', name: 'prod', namespace: 'prod' }`.
 * - `/version`, `/api`, `/apis/apps`, `/healthz` are `{ isResourceRequest: false, verb: 'get' }`.
 *
 * The path is percent-decoded before it is split, as the API server decodes it, so an encoded
 * segment cannot hide a subresource. Never throws: a path the API server would refuse outright
 * (a bad `%` escape, `/api/v1/watch` with nothing after it) reads as a non-resource request.
 *
 * @param method The HTTP method, uppercase as Node gives it (`'GET'`).
 * @param path The path as sent to the cluster, from `/`; it may carry `?query` when `query` is omitted.
 * @param query The query string (with or without `?`) or parsed parameters; only `watch` and
 *   `fieldSelector` are read.
 */
export function parseRequestInfo(method: string, path: string, query?: string | URLSearchParams): RequestInfo {
  const verbOfMethod = typeof method === 'string' ? method : '';
  let raw = typeof path === 'string' ? path : '';
  const mark = raw.indexOf('?');
  if (mark !== -1) {
    if (query === undefined) query = raw.slice(mark + 1);
    raw = raw.slice(0, mark);
  }
  const decoded = raw.includes('%') ? percentDecode(raw, false) : raw;
  if (decoded === undefined) return nonResource(verbOfMethod, raw);

  // Leading and trailing slashes are trimmed, inner empty segments kept: the API server's split.
  // The segments are walked in place; only those the result holds are sliced out.
  let start = 0;
  let end = decoded.length;
  while (start < end && decoded.charCodeAt(start) === 47) start++;
  while (end > start && decoded.charCodeAt(end - 1) === 47) end--;
  const grouped = end - start > 5 && decoded.startsWith('apis/', start);
  if (!grouped && !(end - start > 4 && decoded.startsWith('api/', start))) return nonResource(verbOfMethod, decoded);

  // At least three segments after `apis`, two after `api`, or it is discovery.
  let pos = start + (grouped ? 5 : 4);
  let stop = segmentEnd(decoded, pos, end);
  let apiGroup = '';
  if (grouped) {
    if (stop === end) return nonResource(verbOfMethod, decoded);
    apiGroup = decoded.slice(pos, stop);
    pos = stop + 1;
    stop = segmentEnd(decoded, pos, end);
  }
  if (stop === end) return nonResource(verbOfMethod, decoded);
  const apiVersion = decoded.slice(pos, stop);
  pos = stop + 1;
  stop = segmentEnd(decoded, pos, end);

  let verb: ResourceVerb;
  const watchPrefix = isSegment(decoded, pos, stop, 'watch');
  if (watchPrefix || isSegment(decoded, pos, stop, 'proxy')) {
    // The API server fails such a request (500) before authorizing it: nothing to name.
    if (stop === end) return nonResource(verbOfMethod, decoded);
    verb = watchPrefix ? 'watch' : 'proxy';
    pos = stop + 1;
    stop = segmentEnd(decoded, pos, end);
  } else {
    verb = methodVerb(verbOfMethod);
  }

  let namespace = '';
  if (stop !== end && isSegment(decoded, pos, stop, 'namespaces')) {
    const nsStop = segmentEnd(decoded, stop + 1, end);
    namespace = decoded.slice(stop + 1, nsStop);
    if (nsStop !== end) {
      const nextStop = segmentEnd(decoded, nsStop + 1, end);
      // status and finalize belong to the namespace itself; anything else is a resource in it.
      if (!isSegment(decoded, nsStop + 1, nextStop, 'status') && !isSegment(decoded, nsStop + 1, nextStop, 'finalize')) {
        pos = nsStop + 1;
        stop = nextStop;
      }
    }
  }

  const parts = [decoded.slice(pos, stop)];
  while (stop !== end) {
    pos = stop + 1;
    stop = segmentEnd(decoded, pos, end);
    parts.push(decoded.slice(pos, stop));
  }

  const resource = parts[0]!;
  let name = parts.length >= 2 ? parts[1]! : '';
  // The legacy proxy verb takes everything after the name as the proxied path, not a subresource.
  const subresource = parts.length >= 3 && verb !== 'proxy' ? parts[2]! : '';

  if (name === '' && verb === 'get') {
    verb = isTrue(paramOf(query, 'watch')) ? 'watch' : 'list';
    const selector = paramOf(query, 'fieldSelector');
    if (selector) name = nameFromFieldSelector(selector);
  }
  if (name === '' && verb === 'delete') verb = 'deletecollection';

  return {
    isResourceRequest: true,
    path: decoded,
    verb,
    apiPrefix: grouped ? 'apis' : 'api',
    apiGroup,
    apiVersion,
    namespace,
    resource,
    subresource,
    name,
    parts,
  };
}
