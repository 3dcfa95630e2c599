import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { statusOf, type ClusterProxyError } from './errors.ts';

/** A Kubernetes `meta/v1` `Status` object, as the proxy writes it for its own failures. */
export interface KubernetesStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  code: number;
  /**
   * `causes[0].reason` is the proxy's stable error code (`ERR_...`): what tells a client the proxy
   * answered, not the cluster. `name` and `kind: 'cluster'` name the cluster when it is known.
   */
  details: { name?: string; kind?: string; causes: [{ reason: ClusterProxyError['code']; message: string }] };
}

/** Response header naming the proxy's error code on every answer the proxy makes itself; the cluster's own answers never carry it. */
export const PROXY_ERROR_HEADER = 'x-kube-cluster-proxy-error';

/** The `Status` body for an error, naming the cluster in `details` when it is known. */
export function kubernetesStatus(error: ClusterProxyError): KubernetesStatus {
  const { code, reason } = statusOf(error.code);
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: error.message,
    reason,
    code,
    details: {
      ...(error.cluster === undefined ? {} : { name: error.cluster, kind: 'cluster' }),
      causes: [{ reason: error.code, message: 'made by kube-cluster-proxy, not by the cluster' }],
    },
  };
}

const HEADERS = {
  'content-type': 'application/json',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

/** Answers an HTTP request with the error's `Status`, or cuts the response if it already began. */
export function writeStatus(res: ServerResponse, error: ClusterProxyError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(kubernetesStatus(error));
  res.writeHead(error.statusCode, { ...HEADERS, ...error.headers, [PROXY_ERROR_HEADER]: error.code, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Answers an upgrade request with the error's `Status` as a plain HTTP/1.1 response written on the
 * raw socket, then closes it. Clients (kubectl, browsers, `ws`) read the status line and body
 * before they see the connection end.
 */
export function writeStatusToSocket(socket: Duplex, error: ClusterProxyError): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(kubernetesStatus(error));
  const code = error.statusCode;
  const head =
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Error'}\r\n` +
    Object.entries({ ...HEADERS, ...error.headers, [PROXY_ERROR_HEADER]: error.code })
      .flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => `${name}: ${v}\r\n`))
      .join('') +
    `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n`;
  socket.end(head + body);
  // A client that never reads nor closes must not keep the socket forever.
  setTimeout(() => socket.destroy(), 2_000).unref();
}
