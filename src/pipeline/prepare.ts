import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { isBearerToken } from '../checks.ts';
import { withoutBearerSubprotocol } from '../credentials/bearer-subprotocol.ts';
import type { CredentialSource, ObtainedCredential } from '../credentials/cluster-credentials.ts';
import { isOriginAllowed } from '../credentials/origin.ts';
import { findUserToken, type UserToken } from '../credentials/user-token.ts';
import {
  BadRequestError,
  BodyConsumedError,
  CredentialsUnavailableError,
  MethodNotAllowedError,
  OriginRejectedError,
  PolicyDeniedError,
  UnauthenticatedError,
} from '../errors.ts';
import { connectionTokens, hasRequestBody, upstreamRequestHeaders } from '../forward/headers.ts';
import type { Route } from '../forward/route.ts';
import type { Logger } from '../hooks.ts';
import type { SessionTokenSource } from '../sessions/session-token-source.ts';
import { clientOf } from './audit.ts';
import type { RequestTrace } from '../tracing/request-trace.ts';
import type { Exchange } from './exchange.ts';
import { credentialExpiry } from '../lifecycle/credential-lifetime.ts';
import { decide } from '../policy/decide.ts';
import { decideIdentity, identityHeaders, userOf, type DecidedIdentity, type VerifiedDecision } from './identity.ts';
import { parseRequestInfo, type RequestInfo } from './request-info.ts';
import type { UserInfo } from './user.ts';
import type { ClusterRequestPath } from './route.ts';
import type { Upstream, UpstreamRegistry } from './upstreams.ts';

/** Methods of the Kubernetes API; anything else is refused before a cluster is looked up. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The upgrade protocols of the Kubernetes API: WebSocket (exec, attach, port-forward, logs, watch) and SPDY. */
const UPGRADES = /^(websocket|spdy\/3\.1)$/i;

/** A request ready to be forwarded: the exchange, and the route to forward it on. */
export interface PreparedRequest {
  exchange: Exchange;
  route: Route;
}

/**
 * What preparation learned so far, written as it goes: a request refused half-way is audited
 * with the cluster, request and user it got to.
 */
export interface PrepareProgress {
  /** `now()` when preparation began: a refusal's time and duration count from it. */
  startedAt?: number | undefined;
  cluster?: string | undefined;
  request?: RequestInfo | undefined;
  user?: UserInfo | undefined;
}

/** What the preparation step needs from the proxy's options. */
export interface PrepareOptions {
  tokenCookie: string;
  allowedOrigins: ReadonlySet<string>;
  sessions: SessionTokenSource | undefined;
  upstreamTimeoutMs: number;
  logger: Logger;
  now: () => number;
}

function isStreaming(path: string): boolean {
  const q = path.indexOf('?');
  if (q === -1) return false;
  // Most queries name neither, even percent-encoded (the API server decodes names): no parsing then.
  if (!path.includes('%', q) && !path.includes('watch', q) && !path.includes('follow', q)) return false;
  const params = new URLSearchParams(path.slice(q + 1));
  const on = (name: string) => ['1', 'true'].includes(params.get(name)?.toLowerCase() ?? '');
  return on('watch') || on('follow');
}

/** What is refused from the request line and headers alone, before any cluster is looked up. */
function checkRequest(req: IncomingMessage, upgrade: boolean): void {
  // An HTTP/0.9-style request line has no headers to authenticate nor framing to trust.
  if (req.httpVersionMajor !== 1) throw new BadRequestError('the request must be HTTP/1.0 or HTTP/1.1');
  const method = req.method ?? 'GET';
  if (!METHODS.has(method)) throw new MethodNotAllowedError(`method ${JSON.stringify(method)} is not allowed: the Kubernetes API knows ${[...METHODS].join(', ')}`);
  if (!upgrade) return;
  const protocol = req.headers.upgrade ?? '';
  if (!UPGRADES.test(protocol.trim())) {
    throw new BadRequestError(`the upgrade to ${JSON.stringify(protocol)} is not supported: the Kubernetes API upgrades to websocket or SPDY/3.1`);
  }
  if (hasRequestBody(req.headers)) throw new BadRequestError('an upgrade request must not carry a body');
}

/**
 * The single preparation step every request takes, HTTP or upgrade alike: resolve the cluster,
 * find the user's token, decide whose identity goes upstream, obtain the credentials, and build
 * the upstream headers. Anything refused here never reaches the cluster. The client's request is
 * read, never changed.
 */
export function createPrepare(options: PrepareOptions, registry: UpstreamRegistry) {
  async function userToken(req: IncomingMessage, upstream: Upstream, upgrade: boolean): Promise<{ token: UserToken; session?: string } | undefined> {
    const { cluster } = upstream;
    let found: { token: UserToken; session?: string } | undefined;
    const fromRequest = findUserToken(req, options.tokenCookie);
    if (fromRequest) found = { token: fromRequest };
    else if (options.sessions) {
      const fromSession = await options.sessions.tokenFor(req, cluster.sessionProvider);
      if (fromSession) {
        if (!isBearerToken(fromSession.token)) {
          throw new UnauthenticatedError(`cluster "${cluster.name}": the login session holds a token that cannot be sent in a header: log in again`, { cluster: cluster.name });
        }
        found = { token: { token: fromSession.token, source: 'session' }, session: fromSession.session };
      }
    }
    const source = found?.token.source;
    // Browsers attach cookies to requests any page starts, WebSockets included.
    if ((source === 'cookie' || source === 'session') && (upgrade || req.headers.origin !== undefined) && !isOriginAllowed(req, options.allowedOrigins)) {
      throw new OriginRejectedError(
        `origin ${JSON.stringify(req.headers.origin ?? null)} may not use the token cookie of cluster "${cluster.name}"; add it to allowedOrigins if it is your dashboard`,
        { cluster: cluster.name },
      );
    }
    return found;
  }

  async function obtain(credentials: CredentialSource, clusterName: string): Promise<ObtainedCredential> {
    const credential = await credentials.obtain();
    if (credential.token !== undefined && !isBearerToken(credential.token)) {
      throw new CredentialsUnavailableError(`cluster "${clusterName}": its ${credentials.kind} credentials gave a token with characters that cannot be sent in a header (visible ASCII only); check what they produce`, { cluster: clusterName });
    }
    return credential;
  }

  /** Runs a step in a span of its own when the request is traced. */
  const step = <T>(trace: RequestTrace | undefined, name: string, run: () => Promise<T>): Promise<T> => (trace ? trace.step(name, run) : run());

  return async function prepare(req: IncomingMessage, target: ClusterRequestPath, upgrade: boolean, progress: PrepareProgress = {}, trace?: RequestTrace): Promise<PreparedRequest> {
    const startedAt = options.now();
    progress.startedAt = startedAt;
    checkRequest(req, upgrade);
    const method = req.method ?? 'GET';
    const request = parseRequestInfo(method, target.path);
    progress.request = request;
    const headers: IncomingHttpHeaders = req.headers;
    const protocols = withoutBearerSubprotocol(headers['sec-websocket-protocol']);
    const hasBody = !upgrade && hasRequestBody(headers);
    if (hasBody && req.readableDidRead) {
      throw new BodyConsumedError('the request body was already read by a body parser before the proxy: mount the proxy before express.json() and other body parsers');
    }
    const upstream = await registry.get(target.cluster);
    const { cluster, access } = upstream;
    progress.cluster = cluster.name;
    const found = access.mode === 'cluster' ? undefined : await userToken(req, upstream, upgrade);
    const decision = decideIdentity(access, found?.token);
    if (decision.kind === 'refused') {
      throw new UnauthenticatedError(
        `cluster "${cluster.name}" needs the user's token: send "Authorization: Bearer <token>", ` +
          `the WebSocket subprotocol "base64url.bearer.authorization.k8s.io.<token>" or the "${options.tokenCookie}" cookie` +
          (options.sessions ? ', or log in' : ''),
        { cluster: cluster.name },
      );
    }

    // The user's token first: a refused one costs no credential fetch.
    const who: VerifiedDecision = decision.kind === 'impersonate' ? { ...decision, verified: await decision.verifier.verify(decision.token.token) } : decision;
    // Before the policy, whose rules on users and groups must see who the token is.
    const { identify } = upstream;
    const reviewed = who.kind === 'user' && identify ? await step(trace, 'identify', () => identify(who.token.token)) : undefined;
    const user = userOf(who, cluster.name, reviewed);
    progress.user = user;
    if (upstream.policy) {
      const verdict = await decide(upstream.policy, request, user, cluster.name);
      if (!verdict.allowed) {
        if (verdict.error !== undefined) options.logger.error(`kube-cluster-proxy: the policy of cluster "${cluster.name}" failed:`, verdict.error);
        throw new PolicyDeniedError(verdict.reason, { cluster: cluster.name });
      }
    }

    let decided: DecidedIdentity;
    if (who.kind === 'user') {
      decided = who;
    } else {
      const credential = await step(trace, 'credentials', () => obtain(who.credentials, cluster.name));
      const source = who.credentials.kind;
      decided =
        who.kind === 'impersonate'
          ? { kind: 'impersonate', token: who.token, source, credential, verified: who.verified }
          : { kind: 'cluster', source, credential, fixed: cluster.impersonationHeaders };
    }
    const route = decided.kind === 'user' ? upstream.user : upstream.own(decided.credential.certificate);
    const identity = identityHeaders(decided);

    const out = upstreamRequestHeaders(headers, { upgrade, dropImpersonation: identity.dropClientImpersonation });
    out.host = cluster.server.host;
    if (identity.authorization !== undefined) out.authorization = identity.authorization;
    Object.assign(out, identity.impersonation);
    if (protocols) out['sec-websocket-protocol'] = protocols;

    const streaming = !upgrade && isStreaming(target.path);
    const exchange: Exchange = {
      id: randomUUID(),
      client: clientOf(req),
      cluster,
      identity: identity.identity,
      request,
      user,
      credentialSource: decision.kind === 'user' ? undefined : decision.credentials,
      credential: decided.kind === 'user' ? undefined : decided.credential,
      method,
      path: target.path,
      pathname: target.pathname,
      headers: out,
      hasBody,
      upgrade,
      streaming,
      timeoutMs: options.upstreamTimeoutMs,
      startedAt,
      session: found?.session,
      clientCloses: connectionTokens(headers.connection).has('close'),
      audited: false,
      trace,
      // Only connections that stay open are closed when it expires: a plain request does not decode a JWT for it.
      credentialExpiresAt:
        upgrade || streaming ? credentialExpiry(decided.kind === 'cluster' ? undefined : found?.token.token, decided.kind === 'user' ? undefined : decided.credential) : undefined,
    };
    return { exchange, route };
  };
}

export type Prepare = ReturnType<typeof createPrepare>;
