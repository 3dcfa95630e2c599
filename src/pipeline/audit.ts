import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ClusterProxyError, ClusterProxyErrorCode } from '../errors.ts';
import type { CloseReason, HookEmitter, RequestIdentity } from '../hooks.ts';
import type { RecordingSummary } from '../recording/session-recorder.ts';
import { redactedExcerpt, withoutTokens } from '../redact.ts';
import type { Exchange } from './exchange.ts';
import { isoTime } from './iso-time.ts';
import type { RequestInfo } from './request-info.ts';
import type { UserInfo } from './user.ts';

/**
 * One finished request or upgrade, as the `audit` hook hears of it: plain data (strings, numbers,
 * arrays), so that `JSON.stringify(event)` is a JSON line. It names no token, cookie or query
 * string; only the exec command is taken from the query.
 */
export interface AuditEvent {
  /** When the proxy received the request (ISO 8601, UTC). */
  time: string;
  /** A random id the proxy gave the request, for logs (session recordings are named by it); not sent to the cluster. */
  requestId: string;
  /** The configured cluster the request was for; `undefined` when it never resolved to one (unknown cluster, bad path). */
  cluster: string | undefined;
  /** Who the request was for; `undefined` when it was refused before the proxy knew. */
  user: UserInfo | undefined;
  /** Whose identity went upstream and where the token came from; `undefined` when refused before that was decided. */
  identity: RequestIdentity | undefined;
  method: string;
  /** The request in Kubernetes terms; `undefined` when refused before the path was read. */
  request: RequestInfo | undefined;
  upgrade: boolean;
  /** The HTTP status code the client got (`101` for an upgrade the cluster switched). */
  code: number;
  /** Who made the response: the cluster, or the proxy itself (a refusal, an unreachable cluster). */
  source: 'proxy' | 'cluster';
  /** For a response the proxy made: its error code (`'ERR_POLICY_DENIED'`, ...). */
  error?: ClusterProxyErrorCode;
  /** Milliseconds to the response headers; for a switched upgrade, how long the connection lived. */
  durationMs: number;
  /** For an exec: the command, from the `command` query parameters. */
  command?: string[];
  /** The client's address as the socket saw it (not `X-Forwarded-For`, which a client can write). */
  clientAddress: string | undefined;
  /** The client's `User-Agent`, at most 200 characters, anything token-like redacted. */
  userAgent: string | undefined;
  /** For a switched upgrade: the subprotocol the cluster chose. */
  protocol?: string;
  /** For a switched upgrade: bytes from the client to the cluster (`in`) and back (`out`). */
  bytes?: { in: number; out: number };
  /**
   * For a switched upgrade: when (ISO 8601) and why it closed: the client or the cluster (the side
   * that sent the first WebSocket close frame, else whose end came first), a drain, the
   * credential's lifetime, the user's logout, or the proxy closing (see {@link CloseReason}).
   */
  closed?: { time: string; reason: CloseReason };
  /**
   * For a recorded exec or attach session (`recordSessions`): its file, the bytes written, and, when
   * the recording stopped before the session, why (`dropped`: `'size-limit'`, `'slow-disk'`,
   * `'disk-error'`). The file's last writes may still be on their way when the event fires.
   */
  recording?: RecordingSummary;
}

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
