/** Longest cluster name accepted: the DNS subdomain limit Kubernetes uses for object names. */
export const MAX_CLUSTER_NAME_LENGTH = 253;

/**
 * Why `name` cannot be a cluster name, or `undefined` when it can.
 *
 * The name is a single path segment under the mount path and part of a cookie path, so anything
 * that could move the request to another path (`/`, `\`, dot segments) or break a header (control
 * characters) is refused, whatever its encoding.
 */
export function clusterNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'a cluster name must not be empty';
  if (name.length > MAX_CLUSTER_NAME_LENGTH) {
    return `a cluster name must be at most ${MAX_CLUSTER_NAME_LENGTH} characters long`;
  }
  if (name === '.' || name === '..') return 'a cluster name must not be "." or ".."';
  if (/[/\\]/.test(name)) return 'a cluster name must not contain "/" or "\\"';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'a cluster name must not contain control characters';
  return undefined;
}
