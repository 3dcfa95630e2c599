/**
 * The path to request from a server whose URL may carry a path of its own (Rancher's
 * `/k8s/clusters/<id>`): that path, then the request's.
 */
export function upstreamPath(server: URL, path: string): string {
  if (server.pathname === '/') return path;
  const prefix = server.pathname.replace(/\/$/, '');
  // `<mount>/<cluster>` alone is the server URL itself, as written.
  return path === '/' || path.startsWith('/?') ? prefix + path.slice(1) : prefix + path;
}
