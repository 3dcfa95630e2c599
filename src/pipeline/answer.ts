import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ClusterProxyError, InternalProxyError } from '../errors.ts';
import { toUpstreamError } from '../forward/upstream-error.ts';
import type { HookEmitter, Logger } from '../hooks.ts';
import { writeStatus, writeStatusToSocket } from '../status.ts';
import { createAuditor } from './audit.ts';
import type { Exchange } from './exchange.ts';
import type { PrepareProgress } from './prepare.ts';
import type { ClusterRequestPath } from './route.ts';

/** Where a failure happened, for the `error` hook. */
export interface FailureContext {
  method: string;
  upgrade: boolean;
  exchange?: Exchange | undefined;
  target?: ClusterRequestPath | undefined;
  /** The client's request, for the audit event's client address and user agent. */
  req?: IncomingMessage | undefined;
  /** How far preparation got before the refusal. */
  progress?: PrepareProgress | undefined;
}

/**
 * The one error mapper of the proxy: whatever failed, the client gets the error's Kubernetes
 * `Status` (on a response, or as a raw HTTP/1.1 answer on an upgrade's socket) and the `error`
 * hook hears of it. Unexpected errors are logged, and answered as internal errors.
 */
export function createAnswers(emitter: HookEmitter, logger: Logger, now: () => number) {
  const auditor = createAuditor(emitter, now);
  function toProxyError(error: unknown, context: FailureContext): ClusterProxyError {
    if (error instanceof ClusterProxyError) return error;
    if (context.exchange) return toUpstreamError(error, context.exchange.cluster);
    logger.error('kube-cluster-proxy: unexpected error:', error);
    const cluster = context.target?.cluster;
    return new InternalProxyError('internal error in the cluster proxy (the details are in its log)', { ...(cluster === undefined ? {} : { cluster }), cause: error });
  }

  return {
    /** The one auditor, shared with the observer so that each exchange is audited once. */
    auditor,
    /** Answers `client` with the failure's Status and reports it; never throws. Returns the error answered with. */
    fail(error: unknown, context: FailureContext, client: ServerResponse | Duplex): ClusterProxyError {
      const proxyError = toProxyError(error, context);
      if (emitter.has('error')) {
        emitter.emit('error', {
          error: proxyError,
          cluster: context.exchange?.cluster.name ?? proxyError.cluster ?? context.target?.cluster,
          identity: context.exchange?.identity,
          method: context.method,
          path: context.exchange?.pathname ?? context.target?.pathname,
          upgrade: context.upgrade,
        });
      }
      auditor.refused(proxyError, { ...context.progress, req: context.req, method: context.method, upgrade: context.upgrade, exchange: context.exchange });
      try {
        if ('writeHead' in client) writeStatus(client, proxyError);
        else writeStatusToSocket(client, proxyError);
      } catch (failed) {
        logger.error('kube-cluster-proxy: could not answer an error:', failed);
        client.destroy();
      }
      return proxyError;
    },
  };
}

export type Answers = ReturnType<typeof createAnswers>;
