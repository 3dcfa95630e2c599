import type { CredentialFetchEvent, CredentialKind } from './credentials/credential-source.ts';
import type { UserTokenSource } from './credentials/user-token.ts';
import { InvalidOptionError, type ClusterProxyError, type ClusterProxyErrorCode } from './errors.ts';
import type { RequestInfo } from './pipeline/request-info.ts';
import type { UserInfo } from './pipeline/user.ts';
import type { RecordingSummary } from './recording/session-recorder.ts';

/** Whose identity a request carried to the cluster, and where it came from. Never the credential itself. */
export interface RequestIdentity {
  /**
   * `'user'`: the user's own token; `'cluster'`: the cluster's credentials; `'impersonated'`: the
   * cluster's credentials impersonating the user whose token the proxy verified.
   */
  kind: 'user' | 'cluster' | 'impersonated';
  /** Where the user's token was found (`'user'`, `'impersonated'`), or the kind of the cluster's credentials. */
  source: UserTokenSource | CredentialKind;
}

/** What hooks learn about a proxied request. Tokens, cookies and query strings are left out. */
export interface ProxyEvent {
  cluster: string;
  identity: RequestIdentity;
  method: string;
  /** The upstream path, relative to the cluster's server, without the query string. */
  path: string;
  /** Whether the request is a connection upgrade (WebSocket, SPDY). */
  upgrade: boolean;
  /** The request in Kubernetes terms, as kube-apiserver reads it (see `parseRequestInfo`). */
  request: RequestInfo;
  /** Who the request is for, from verified facts only; never a token. */
  user: UserInfo;
}

/** A response from the cluster (for an upgrade: a refusal, i.e. anything but `101`). */
export interface ProxyResponseEvent extends ProxyEvent {
  statusCode: number;
  /** Milliseconds from the proxy receiving the request to the cluster's response headers. */
  durationMs: number;
}

/**
 * Why a long-lived connection ended: the client or the cluster closed it, a drain ended it
 * (`'drain'`), its credential expired or it reached the sessions' `maxConnectionAgeMs`
 * (`'lifetime'`), its login session ended (`'logout'`: a logout on any replica, or the provider
 * refusing the refresh), or the proxy or the session component closed without a grace (`'shutdown'`).
 */
export type CloseReason = 'client' | 'cluster' | 'drain' | 'lifetime' | 'logout' | 'shutdown';

/** An upgraded connection opened (`101` relayed) or closed. */
export interface UpgradeEvent extends ProxyEvent {
  phase: 'open' | 'close';
  /** The subprotocol the cluster chose, if any. */
  protocol: string | undefined;
  /** For `'close'`: how long the connection lived, in milliseconds. */
  durationMs: number;
  /** For `'close'`: why it ended (see {@link CloseReason}); `undefined` for `'open'`. */
  reason: CloseReason | undefined;
}

/** An HTTP watch or followed log ended. */
export interface StreamEndEvent extends ProxyEvent {
  /** How long it streamed, from the request, in milliseconds. */
  durationMs: number;
  reason: CloseReason;
}

/** An error the proxy answered with a `Status`. */
export interface ProxyErrorEvent {
  error: ClusterProxyError;
  cluster: string | undefined;
  identity: RequestIdentity | undefined;
  method: string;
  path: string | undefined;
  upgrade: boolean;
}

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

/**
 * A refresh of a session's tokens at its provider: `'refreshed'`, `'ended'` (the provider refused
 * the refresh token, or there was none: the user must log in again) or `'failed'` (the provider or
 * the store could not be reached).
 */
export interface SessionRefreshEvent {
  provider: string;
  outcome: 'refreshed' | 'ended' | 'failed';
}

/**
 * Hooks for logging and auditing. They run synchronously on the request path: keep them cheap.
 * An exception thrown by a hook is logged and otherwise ignored.
 */
export interface ClusterProxyHooks {
  /** Before a request is sent to the cluster, credentials attached. */
  proxyReq?: (event: ProxyEvent) => void;
  /** When the cluster's response headers arrive. */
  proxyRes?: (event: ProxyResponseEvent) => void;
  /** When an upgraded connection opens or closes. */
  upgrade?: (event: UpgradeEvent) => void;
  /** When an HTTP watch or followed log ends, with the reason. */
  streamEnd?: (event: StreamEndEvent) => void;
  /** When the proxy answers with an error of its own. */
  error?: (event: ProxyErrorEvent) => void;
  /**
   * Once per finished request or upgrade, refusals by the proxy included: for HTTP when the
   * response headers are sent, for an upgrade the cluster switched when it closes. The event is
   * plain data, one `JSON.stringify` away from a JSON line, and never carries a token.
   */
  audit?: (event: AuditEvent) => void;
  /** When a cluster's credentials were fetched (a `getToken()` call, an exec plugin run, an OIDC refresh), and whether that worked. */
  credentialFetch?: (event: CredentialFetchEvent) => void;
  /** When the `sessions` component refreshed a login session's tokens, and how that went. */
  sessionRefresh?: (event: SessionRefreshEvent) => void;
  /** When the token store failed outside a request (a cache write, an invalidation). Default: logged with `logger.error`. */
  tokenStoreError?: (event: { error: unknown }) => void;
  /**
   * When the cluster resolver reports a problem, e.g. a kubeconfig file that no longer parses (the
   * last good clusters stay) or a broken context. Default: the error is logged with `logger.error`.
   */
  resolverError?: (event: { error: Error }) => void;
}

/** Where the proxy reports warnings and unexpected errors. */
export type Logger = Pick<Console, 'warn' | 'error'>;

type HookName = keyof ClusterProxyHooks;
type EventOf<K extends HookName> = Parameters<NonNullable<ClusterProxyHooks[K]>>[0];

const HOOK_NAMES: readonly HookName[] = ['proxyReq', 'proxyRes', 'upgrade', 'streamEnd', 'error', 'audit', 'credentialFetch', 'sessionRefresh', 'tokenStoreError', 'resolverError'];

function isHookList(on: ClusterProxyHooks | readonly ClusterProxyHooks[]): on is readonly ClusterProxyHooks[] {
  return Array.isArray(on);
}

/** Calls every subscribed hook set, in order; one that throws is logged and never stops the others. */
export interface HookEmitter {
  /** Whether any hook set listens to `name`: events are only built when someone reads them. */
  has(name: HookName): boolean;
  emit<K extends HookName>(name: K, event: EventOf<K>): void;
}

/**
 * Validates the `on` option (one hooks object, or an array of them: a metrics exporter, an audit
 * sink and the host's own) and returns the emitter the proxy reports through.
 * @throws {InvalidOptionError} naming the hook that is unknown or not a function.
 */
export function createHookEmitter(on: ClusterProxyHooks | readonly ClusterProxyHooks[] | undefined, logger: Logger): HookEmitter {
  const sets: readonly ClusterProxyHooks[] = on === undefined ? [] : isHookList(on) ? on : [on];
  sets.forEach((set, i) => {
    const where = Array.isArray(on) ? `on[${i}]` : 'on';
    if (typeof set !== 'object' || set === null) throw new InvalidOptionError(`${where} must be an object of hooks`);
    for (const [name, hook] of Object.entries(set)) {
      if (!(HOOK_NAMES as readonly string[]).includes(name)) {
        throw new InvalidOptionError(`${where}.${name} is not a hook; hooks are ${HOOK_NAMES.join(', ')}`);
      }
      if (hook !== undefined && typeof hook !== 'function') throw new InvalidOptionError(`${where}.${name} must be a function`);
    }
  });
  const listeners = new Map<HookName, ((event: never) => void)[]>();
  for (const name of HOOK_NAMES) {
    const found = sets.flatMap((set) => (typeof set[name] === 'function' ? [set[name] as (event: never) => void] : []));
    if (found.length > 0) listeners.set(name, found);
  }
  return {
    has: (name) => listeners.has(name),
    emit(name, event) {
      const hooks = listeners.get(name);
      if (!hooks) return;
      for (const hook of hooks) {
        try {
          (hook as (e: typeof event) => void)(event);
        } catch (error) {
          logger.error(`kube-cluster-proxy: the ${name} hook threw:`, error);
        }
      }
    },
  };
}
