import type { IncomingMessage } from 'node:http';
import { clusterNameProblem } from '../clusters/cluster-name.ts';
import { BadRequestError, ClusterNotFoundError, MountMismatchError, RouteNotFoundError } from '../errors.ts';

/** A request target split into the cluster it is for and the path to send to that cluster. */
export interface ClusterRequestPath {
  cluster: string;
  /** Path relative to the cluster's server, starting with `/`, query string intact. */
  path: string;
  /** `path` without its query string, for hooks and logs. */
  pathname: string;
}

const SHAPE = '<mountPath>/<cluster>/<Kubernetes API path>, e.g. /clusters/prod/api/v1/pods';

function decodeSegment(segment: string, what: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadRequestError(`${what} is not valid percent-encoding`);
  }
}

/**
 * Whether a request target is under the mount prefix. The prefix matches without regard to case,
 * as Express matches mount paths: a request Express routed to the proxy is always the proxy's.
 */
export function isUnderMount(target: string, mountPrefix: string): boolean {
  const end = mountPrefix.length;
  if (target.length < end || (target.length > end && target[end] !== '/' && target[end] !== '?')) return false;
  const head = target.slice(0, end);
  return head === mountPrefix || head.toLowerCase() === mountPrefix.toLowerCase();
}

/**
 * Splits `<mountPrefix>/<cluster>/<rest>?<query>`. Returns `undefined` when the target is not under
 * the mount prefix (not the proxy's request).
 *
 * Anything that could move the request to another cluster or out of the server's path prefix (a
 * Rancher `/k8s/clusters/<id>` server) is refused: dot segments and encoded slashes or
 * backslashes, in any encoding. So is an absolute-form target (`GET http://host/...`), which is
 * for forward proxies.
 * @throws {BadRequestError} for a malformed path.
 */
export function parseClusterPath(target: string, mountPrefix: string): ClusterRequestPath | undefined {
  if (!target.startsWith('/')) throw new BadRequestError(`the request target must be a path: ${SHAPE}`);
  const q = target.indexOf('?');
  const pathname = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q);
  if (!isUnderMount(pathname, mountPrefix)) return undefined;
  const after = pathname.slice(mountPrefix.length);
  const slash = after.indexOf('/', 1);
  const rawName = slash === -1 ? after.slice(1) : after.slice(1, slash);
  if (rawName === '') throw new BadRequestError(`the path must name a cluster: ${SHAPE}`);
  const cluster = rawName.includes('%') ? decodeSegment(rawName, 'the cluster name') : rawName;
  const problem = clusterNameProblem(cluster);
  if (problem) throw new BadRequestError(`invalid cluster name in the path: ${problem}`);

  const rest = slash === -1 ? '/' : after.slice(slash);
  if (rest.includes('\\')) throw new BadRequestError('the path must not contain "\\"');
  for (const segment of rest.split('/')) {
    // Most segments have no escapes: only those are decoded (this runs for every request).
    const decoded = segment.includes('%') ? decodeSegment(segment, 'the path') : segment;
    if (decoded === '.' || decoded === '..') throw new BadRequestError('the path must not contain "." or ".." segments', { cluster });
    if (/[/\\]/.test(decoded)) throw new BadRequestError('the path must not contain encoded "/" or "\\"', { cluster });
  }
  return { cluster, path: rest + query, pathname: rest };
}

/**
 * The setup mistake of mounting the proxy at another path than its `mountPath` (Express sets
 * `req.baseUrl`), or `undefined` when the mount is right or unknown (`node:http`).
 */
export function mountMismatch(req: IncomingMessage, mountPrefix: string, mountPath: string): MountMismatchError | undefined {
  const baseUrl = (req as { baseUrl?: string }).baseUrl;
  if (!baseUrl || mountPrefix.toLowerCase().startsWith(baseUrl.toLowerCase())) return undefined;
  return new MountMismatchError(`the proxy is mounted at "${baseUrl}" but its mountPath option is "${mountPath}"; pass the same path to both`);
}

/** The answer to a request outside the mount path, when nobody else takes it. */
export function routeNotFound(mountPath: string): RouteNotFoundError {
  return new RouteNotFoundError(`no route: requests to the cluster proxy go to ${mountPath.replace(/\/+$/, '')}/<cluster>/<Kubernetes API path>`);
}

// The first segments of Kubernetes API paths: a "cluster" named so is most likely a path whose
// cluster segment was left out (`/clusters/api/v1/pods`).
const API_ROOTS = new Set(['api', 'apis', 'version', 'openapi', 'healthz', 'livez', 'readyz', 'metrics', 'logs', '.well-known']);

/**
 * The answer for a cluster name no resolver knows, showing the path's shape; when the name is the
 * start of a Kubernetes API path, saying the cluster segment is missing.
 * @param mountPath the proxy's `mountPath`, shown in the example path.
 */
export function clusterNotFound(cluster: string, mountPath = '/clusters'): ClusterNotFoundError {
  const mount = mountPath.replace(/\/+$/, '');
  const shape = `${mount}/<cluster>/<Kubernetes API path>`;
  const message = API_ROOTS.has(cluster.toLowerCase())
    ? `cluster "${cluster}" not found: the path has no cluster segment ("${cluster}" starts a Kubernetes API path); ` +
      `put the cluster's name after ${mount || '/'}: ${mount}/<cluster>/${cluster}/...`
    : `cluster "${cluster}" not found: no configured cluster has that name; requests go to ${shape}, e.g. ${mount}/prod/api/v1/pods`;
  return new ClusterNotFoundError(message, { cluster });
}
