import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ClusterProxyError } from '../errors.ts';
import type { AuditEvent, CloseReason, HookEmitter } from '../hooks.ts';
import type { RecordingSummary } from '../recording/session-recorder.ts';
import { redactedExcerpt, withoutTokens } from '../redact.ts';
import type { Exchange } from './exchange.ts';
import { isoTime } from './iso-time.ts';
import type { RequestInfo } from './request-info.ts';
import type { UserInfo } from './user.ts';

/** What the proxy knew of a request when it refused it. */
export interface AuditRefusal {
  req: IncomingMessage | undefined;
  method: string;
  upgrade: boolean;
  exchange?: Exchange | undefined;
  cluster?: string | undefined;
  request?: RequestInfo | undefined;
  user?: UserInfo | undefined;
  startedAt?: number | undefined;
}

/** The client's address and user agent, from the request; never a header that could carry a credential. */
export function clientOf(req: IncomingMessage | undefined): { address: string | undefined; userAgent: string | undefined } {
  const agent = req?.headers['user-agent'];
  return { address: req?.socket?.remoteAddress, userAgent: agent === undefined ? undefined : redactedExcerpt(agent, 200) };
}

/**
 * The command of an exec, read from the query of `path`, anything token-like in it redacted
 * (`curl -H "Authorization: Bearer ..."` is a command too); `undefined` for anything else.
 */
function commandOf(request: RequestInfo | undefined, path: string | undefined): string[] | undefined {
  if (request?.subresource !== 'exec') return undefined;
  const q = path?.indexOf('?') ?? -1;
  return q === -1 ? [] : new URLSearchParams(path!.slice(q + 1)).getAll('command').map(withoutTokens);
}

/** The command of an exchange's exec (see {@link commandOf}). */
export function execCommand(exchange: Exchange): string[] | undefined {
  return commandOf(exchange.request, exchange.path);
}

function fromExchange(exchange: Exchange, code: number, durationMs: number): AuditEvent {
  // One literal, one shape for every event on the hot path; only an exec gets its command.
  const event: AuditEvent = {
    time: isoTime(exchange.startedAt),
    requestId: exchange.id,
    cluster: exchange.cluster.name,
    user: exchange.user,
    identity: exchange.identity,
    method: exchange.method,
    request: exchange.request,
    upgrade: exchange.upgrade,
    code,
    source: 'cluster',
    durationMs,
    clientAddress: exchange.client.address,
    userAgent: exchange.client.userAgent,
  };
  if (exchange.request.isResourceRequest && exchange.request.subresource === 'exec') event.command = execCommand(exchange);
  return event;
}

/**
 * Builds audit events and emits each exchange's once, whichever of the observer and the error
 * mapper sees its end first (a response cut after its headers is not a second request).
 */
export function createAuditor(emitter: HookEmitter, now: () => number) {
  const first = (exchange: Exchange): boolean => {
    if (exchange.audited) return false;
    exchange.audited = true;
    return true;
  };
  return {
    /** The cluster answered (for an upgrade: refused it). */
    answered(exchange: Exchange, code: number): void {
      if (!emitter.has('audit') || !first(exchange)) return;
      emitter.emit('audit', fromExchange(exchange, code, now() - exchange.startedAt));
    },
    /** An upgraded connection the cluster switched has closed. */
    closed(exchange: Exchange, details: { protocol: string | undefined; bytesIn: number; bytesOut: number; reason: CloseReason; recording: RecordingSummary | undefined }): void {
      if (!emitter.has('audit') || !first(exchange)) return;
      const at = now();
      emitter.emit('audit', {
        ...fromExchange(exchange, 101, at - exchange.startedAt),
        ...(details.protocol === undefined ? {} : { protocol: details.protocol }),
        bytes: { in: details.bytesIn, out: details.bytesOut },
        closed: { time: isoTime(at), reason: details.reason },
        ...(details.recording === undefined ? {} : { recording: details.recording }),
      });
    },
    /** The proxy answered with an error of its own. */
    refused(error: ClusterProxyError, refusal: AuditRefusal): void {
      if (!emitter.has('audit')) return;
      const { exchange } = refusal;
      if (exchange) {
        if (!first(exchange)) return;
        emitter.emit('audit', { ...fromExchange(exchange, error.statusCode, now() - exchange.startedAt), source: 'proxy', error: error.code });
        return;
      }
      const client = clientOf(refusal.req);
      const command = commandOf(refusal.request, refusal.req?.url);
      const at = now();
      const startedAt = refusal.startedAt ?? at;
      emitter.emit('audit', {
        time: isoTime(startedAt),
        requestId: randomUUID(),
        cluster: refusal.cluster,
        user: refusal.user,
        identity: undefined,
        method: refusal.method,
        request: refusal.request,
        upgrade: refusal.upgrade,
        code: error.statusCode,
        source: 'proxy',
        error: error.code,
        durationMs: at - startedAt,
        ...(command === undefined ? {} : { command }),
        clientAddress: client.address,
        userAgent: client.userAgent,
      });
    },
  };
}

export type Auditor = ReturnType<typeof createAuditor>;
