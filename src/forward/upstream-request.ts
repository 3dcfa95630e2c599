import { request as httpRequest, type Agent, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ValidatedCluster } from '../clusters/cluster-config.ts';
import { UpstreamTimeoutError } from '../errors.ts';
import type { Deadlines } from './deadlines.ts';
import { displayServer, toUpstreamError } from './upstream-error.ts';
import { upstreamPath } from './upstream-path.ts';

/** A request the proxy makes to a cluster on its own behalf (a shared watch, a cache fill, a review). */
export interface UpstreamRequest {
  method: string;
  /** Path relative to the server, with the query string. */
  path: string;
  /** Complete headers for the cluster, the identity's included. */
  headers: IncomingHttpHeaders;
  /** Body to send, if any. */
  body?: Buffer | string;
  /** Milliseconds to wait for the response headers. */
  timeoutMs: number;
  /** Aborts the request (before or after the headers arrived). */
  signal?: AbortSignal;
}

/**
 * Sends one request to the cluster over the route's agent and resolves with the response once its
 * headers arrived; the caller reads (or destroys) the body. The deadline covers the headers only,
 * so a watch stays open. Failures reject with the proxy's `502`/`504` errors, naming the cluster.
 */
export type RequestUpstream = (request: UpstreamRequest) => Promise<IncomingMessage>;

export function createUpstreamRequester(cluster: ValidatedCluster, agent: Agent, deadlines: Deadlines): RequestUpstream {
  const send = cluster.server.protocol === 'https:' ? httpsRequest : httpRequest;
  const target = {
    protocol: cluster.server.protocol,
    hostname: cluster.server.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: cluster.server.port || (cluster.server.protocol === 'https:' ? 443 : 80),
  };

  return function requestUpstream(request: UpstreamRequest): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const headers = { ...request.headers };
      if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
      const req = send({
        ...target,
        method: request.method,
        path: upstreamPath(cluster.server, request.path),
        headers,
        agent,
        ...(request.signal ? { signal: request.signal } : {}),
      });
      const deadline = deadlines.start(request.timeoutMs, () =>
        req.destroy(new UpstreamTimeoutError(`cluster "${cluster.name}" (${displayServer(cluster)}) did not answer within ${request.timeoutMs} ms`, { cluster: cluster.name })),
      );
      req.once('response', (response) => {
        deadline.stop();
        resolve(response);
      });
      req.once('error', (error) => {
        deadline.stop();
        reject(toUpstreamError(error, cluster));
      });
      req.end(request.body);
    });
  };
}
