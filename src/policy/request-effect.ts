import type { RequestInfo } from '../pipeline/request-info.ts';

/**
 * Subresources that open an interactive stream into a pod. kube-apiserver reads them as verb
 * `get` over WebSocket (a GET upgrade) and `create` over SPDY (a POST upgrade): the verb alone
 * says nothing about what they do.
 */
const STREAM_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);

const READ_VERBS = new Set(['get', 'list', 'watch']);

/**
 * Subresources whose GET only reads. Listed rather than excluded so that a subresource this list
 * does not know (`proxy`, a new streaming one, an aggregated API's) is not taken for a read:
 * `pods/proxy`, `services/proxy` and `nodes/proxy` GETs reach whatever the target serves, the
 * kubelet's exec endpoint included.
 */
const READ_SUBRESOURCES = new Set(['status', 'scale', 'log', 'ephemeralcontainers', 'resize']);

/** Exec, attach or port-forward, over WebSocket (verb `get`, yet it runs commands) or SPDY (`create`). */
export function opensStream(request: RequestInfo): boolean {
  return request.isResourceRequest && (request.verb === 'get' || request.verb === 'create') && STREAM_SUBRESOURCES.has(request.subresource);
}

/** Whether a request only reads: what `readOnly` lets through. */
export function isRead(request: RequestInfo): boolean {
  if (!request.isResourceRequest) return request.verb === 'get' || request.verb === 'head';
  return READ_VERBS.has(request.verb) && (request.subresource === '' || READ_SUBRESOURCES.has(request.subresource));
}
