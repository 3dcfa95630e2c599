import type { ValidatedCluster } from '../clusters/cluster-config.ts';
import { ClusterProxyError, UpstreamUnreachableError } from '../errors.ts';

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed',
};

/** The server URL as it may appear in a message: origin and path only. */
export function displayServer(cluster: ValidatedCluster): string {
  return cluster.server.origin + cluster.server.pathname.replace(/\/$/, '');
}

/**
 * Turns a failure to talk to the cluster into the proxy's error: `502` naming the cluster, the
 * server and the cause (connection or TLS). Errors the proxy already classified pass unchanged.
 */
export function toUpstreamError(error: unknown, cluster: ValidatedCluster): ClusterProxyError {
  if (error instanceof ClusterProxyError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  const where = `cluster "${cluster.name}" (${displayServer(cluster)})`;
  const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
  if (TLS_CODES.has(code) || /certificate|ssl|tls/i.test(detail ?? '')) {
    return new UpstreamUnreachableError(`${where}: TLS verification failed: ${detail}${code ? ` (${code})` : ''}; check the cluster's ca and tlsServerName`, { cluster: cluster.name, cause: error });
  }
  const reason = REASONS[code] ?? detail ?? 'unknown error';
  return new UpstreamUnreachableError(`${where} is unreachable: ${reason}${code ? ` (${code})` : ''}`, { cluster: cluster.name, cause: error });
}
