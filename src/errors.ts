/**
 * Every failure the proxy itself reports is one of these classes. Each carries a stable `code`
 * (switch on it, never on the message) and maps to exactly one HTTP status and Kubernetes
 * `Status.reason` through {@link statusOf}, the only place where that mapping lives.
 *
 * Messages are written for the person reading them in a browser console or in `kubectl` output:
 * they name the cluster and the cause, and never contain a credential.
 */

/** Stable codes of {@link ClusterProxyError}; a union so that `switch (err.code)` narrows. */
export type ClusterProxyErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_KUBECONFIG'
  | 'ERR_BAD_REQUEST'
  | 'ERR_METHOD_NOT_ALLOWED'
  | 'ERR_UNAUTHENTICATED'
  | 'ERR_ORIGIN_REJECTED'
  | 'ERR_CLUSTER_NOT_FOUND'
  | 'ERR_ROUTE_NOT_FOUND'
  | 'ERR_CLUSTER_MISCONFIGURED'
  | 'ERR_UPSTREAM_UNREACHABLE'
  | 'ERR_CREDENTIALS_UNAVAILABLE'
  | 'ERR_TOKEN_STORE_UNAVAILABLE'
  | 'ERR_SESSION'
  | 'ERR_UPSTREAM_TIMEOUT'
  | 'ERR_PROXY_CLOSED'
  | 'ERR_NOT_ATTACHED'
  | 'ERR_MOUNT_MISMATCH'
  | 'ERR_BODY_CONSUMED'
  | 'ERR_POLICY_DENIED'
  | 'ERR_TOO_MANY_REQUESTS'
  | 'ERR_INTERNAL';

/** Kubernetes `metav1.StatusReason` values used by the proxy. */
export type StatusReason =
  | 'BadRequest'
  | 'MethodNotAllowed'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

const STATUS: Record<ClusterProxyErrorCode, { code: number; reason: StatusReason }> = {
  ERR_INVALID_OPTION: { code: 500, reason: 'InternalError' },
  ERR_KUBECONFIG: { code: 500, reason: 'InternalError' },
  ERR_BAD_REQUEST: { code: 400, reason: 'BadRequest' },
  ERR_METHOD_NOT_ALLOWED: { code: 405, reason: 'MethodNotAllowed' },
  ERR_UNAUTHENTICATED: { code: 401, reason: 'Unauthorized' },
  ERR_ORIGIN_REJECTED: { code: 403, reason: 'Forbidden' },
  ERR_CLUSTER_NOT_FOUND: { code: 404, reason: 'NotFound' },
  ERR_ROUTE_NOT_FOUND: { code: 404, reason: 'NotFound' },
  ERR_CLUSTER_MISCONFIGURED: { code: 500, reason: 'InternalError' },
  // Kubernetes has no reason for 502; InternalError is what client-go expects for a 5xx it did
  // not produce itself, and the message says which cluster could not be reached and why.
  ERR_UPSTREAM_UNREACHABLE: { code: 502, reason: 'InternalError' },
  ERR_CREDENTIALS_UNAVAILABLE: { code: 503, reason: 'ServiceUnavailable' },
  ERR_TOKEN_STORE_UNAVAILABLE: { code: 503, reason: 'ServiceUnavailable' },
  ERR_SESSION: { code: 400, reason: 'BadRequest' },
  ERR_UPSTREAM_TIMEOUT: { code: 504, reason: 'Timeout' },
  ERR_PROXY_CLOSED: { code: 503, reason: 'ServiceUnavailable' },
  ERR_NOT_ATTACHED: { code: 500, reason: 'InternalError' },
  ERR_MOUNT_MISMATCH: { code: 500, reason: 'InternalError' },
  ERR_BODY_CONSUMED: { code: 500, reason: 'InternalError' },
  ERR_POLICY_DENIED: { code: 403, reason: 'Forbidden' },
  ERR_TOO_MANY_REQUESTS: { code: 429, reason: 'TooManyRequests' },
  ERR_INTERNAL: { code: 500, reason: 'InternalError' },
};

/** The HTTP status code and Kubernetes reason for an error code. */
export function statusOf(code: ClusterProxyErrorCode): { code: number; reason: StatusReason } {
  return STATUS[code];
}

/** Base class of every error the proxy produces. */
export class ClusterProxyError extends Error {
  readonly code: ClusterProxyErrorCode;
  /** The cluster the request was for, when it was known. */
  readonly cluster: string | undefined;

  /** Extra response headers, e.g. `Retry-After` or a `Set-Cookie` that clears a dead session. */
  readonly headers: Readonly<Record<string, string | string[]>>;

  constructor(
    code: ClusterProxyErrorCode,
    message: string,
    options?: { cluster?: string; cause?: unknown; headers?: Record<string, string | string[]> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.cluster = options?.cluster;
    this.headers = options?.headers ?? {};
  }

  /** HTTP status code this error is answered with. */
  get statusCode(): number {
    return STATUS[this.code].code;
  }
}

/** An option given to a factory is invalid. Thrown at construction, never per request. */
export class InvalidOptionError extends ClusterProxyError {
  constructor(message: string) {
    super('ERR_INVALID_OPTION', message);
  }
}

/** A kubeconfig file or context is malformed or uses something unsupported; the message names the file and field. */
export class KubeconfigError extends ClusterProxyError {
  /** The kubeconfig file, when the problem is in one. */
  readonly file: string | undefined;

  constructor(message: string, options?: { file?: string; cluster?: string; cause?: unknown }) {
    super('ERR_KUBECONFIG', message, options);
    this.file = options?.file;
  }
}

/** The request path, a header, a cookie or a subprotocol is malformed (400). */
export class BadRequestError extends ClusterProxyError {
  constructor(message: string, options?: { cluster?: string }) {
    super('ERR_BAD_REQUEST', message, options);
  }
}

/** The HTTP method is not one the Kubernetes API knows (405). */
export class MethodNotAllowedError extends ClusterProxyError {
  constructor(message: string) {
    super('ERR_METHOD_NOT_ALLOWED', message);
  }
}

/** The user's credentials are missing or were rejected (401). */
export class UnauthenticatedError extends ClusterProxyError {
  constructor(message: string, options?: { cluster?: string; headers?: Record<string, string | string[]> }) {
    super('ERR_UNAUTHENTICATED', message, options);
  }
}

/** The token store (Redis) cannot be reached; the request is worth retrying (503). */
export class TokenStoreUnavailableError extends ClusterProxyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_TOKEN_STORE_UNAVAILABLE', message, { ...options, headers: { 'retry-after': '5' } });
  }
}

/** A login callback or session request the session component refuses: forged, replayed or expired state (400). */
export class SessionError extends ClusterProxyError {
  constructor(message: string, options?: { cause?: unknown; headers?: Record<string, string | string[]> }) {
    super('ERR_SESSION', message, options);
  }
}

/** A cookie-authenticated request came from an origin that is not allowed (403). */
export class OriginRejectedError extends ClusterProxyError {
  constructor(message: string, options?: { cluster?: string }) {
    super('ERR_ORIGIN_REJECTED', message, options);
  }
}

/** No cluster of that name is configured (404). */
export class ClusterNotFoundError extends ClusterProxyError {
  constructor(message: string, options: { cluster: string }) {
    super('ERR_CLUSTER_NOT_FOUND', message, options);
  }
}

/** A request reached the proxy outside its mount path (404). */
export class RouteNotFoundError extends ClusterProxyError {
  constructor(message: string) {
    super('ERR_ROUTE_NOT_FOUND', message);
  }
}

/** A request arrived after `close()` (503). */
export class ProxyClosedError extends ClusterProxyError {
  constructor(message: string, options?: { cluster?: string }) {
    super('ERR_PROXY_CLOSED', message, { ...options, headers: { 'retry-after': '1' } });
  }
}

/** A resolver returned a cluster whose configuration is invalid (500). */
export class ClusterMisconfiguredError extends ClusterProxyError {
  constructor(message: string, options?: { cluster?: string; cause?: unknown }) {
    super('ERR_CLUSTER_MISCONFIGURED', message, options);
  }
}

/** The cluster's API server could not be reached, or its TLS could not be verified (502). */
export class UpstreamUnreachableError extends ClusterProxyError {
  constructor(message: string, options: { cluster: string; cause?: unknown }) {
    super('ERR_UPSTREAM_UNREACHABLE', message, options);
  }
}

/** The cluster's own credentials (or the user's session tokens) could not be obtained (503, `Retry-After: 5`). */
export class CredentialsUnavailableError extends ClusterProxyError {
  constructor(message: string, options?: { cluster?: string; cause?: unknown; headers?: Record<string, string | string[]> }) {
    super('ERR_CREDENTIALS_UNAVAILABLE', message, { ...options, headers: { 'retry-after': '5', ...options?.headers } });
  }
}

/** The cluster's API server did not answer in time (504). */
export class UpstreamTimeoutError extends ClusterProxyError {
  constructor(message: string, options: { cluster: string }) {
    super('ERR_UPSTREAM_TIMEOUT', message, options);
  }
}

/**
 * An upgrade reached the proxy's HTTP handler: the host did not call `proxy.attach(server)` nor
 * route upgrades to `proxy.upgrade()` (500; a setup mistake, reported per request).
 */
export class NotAttachedError extends ClusterProxyError {
  constructor(message: string, options?: { cluster?: string }) {
    super('ERR_NOT_ATTACHED', message, options);
  }
}

/** The host mounted the proxy at another path than its `mountPath` option (500; a setup mistake, reported per request). */
export class MountMismatchError extends ClusterProxyError {
  constructor(message: string) {
    super('ERR_MOUNT_MISMATCH', message);
  }
}

/**
 * A request's body was already read before it reached the proxy, by a body parser mounted in front
 * of it (500; a setup mistake: what remains cannot be forwarded).
 */
export class BodyConsumedError extends ClusterProxyError {
  constructor(message: string) {
    super('ERR_BODY_CONSUMED', message);
  }
}

/** The proxy's `policy` denied the request; it never reached the cluster (403). The message is the policy's reason. */
export class PolicyDeniedError extends ClusterProxyError {
  constructor(message: string, options?: { cluster?: string }) {
    super('ERR_POLICY_DENIED', message, options);
  }
}

/**
 * One of the proxy's `limits` is reached: the user (or the cluster) has as many requests or
 * streams in flight as allowed (429, `Retry-After` in seconds; client-go and kubectl retry it).
 */
export class TooManyRequestsError extends ClusterProxyError {
  constructor(message: string, options: { cluster: string; retryAfterSeconds: number }) {
    super('ERR_TOO_MANY_REQUESTS', message, { cluster: options.cluster, headers: { 'retry-after': String(options.retryAfterSeconds) } });
  }
}

/** A bug or an unexpected failure inside the proxy (500); details go to the logger only. */
export class InternalProxyError extends ClusterProxyError {
  constructor(message: string, options?: { cluster?: string; cause?: unknown }) {
    super('ERR_INTERNAL', message, options);
  }
}
