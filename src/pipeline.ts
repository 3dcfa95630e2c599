import type { IncomingMessage } from 'node:http';
import { withoutBearerSubprotocol } from './credentials/bearer-subprotocol.ts';
import type { ObtainedCredential } from './credentials/cluster-credentials.ts';
import { isOriginAllowed } from './credentials/origin.ts';
import { findUserToken, type UserToken } from './credentials/user-token.ts';
import { isBearerToken, utf8HeaderValue } from './checks.ts';
import { BadRequestError, CredentialsUnavailableError, MethodNotAllowedError, OriginRejectedError, UnauthenticatedError } from './errors.ts';
import type { Exchange } from './exchange.ts';
import type { RequestIdentity, ResolvedOptions } from './options.ts';
import { connectionTokens, hasRequestBody, upstreamRequestHeaders } from './proxy/headers.ts';
import type { ClusterRequestPath } from './request-path.ts';
import type { Route, UpstreamRegistry } from './upstreams.ts';

/** Methods of the Kubernetes API; anything else is refused before a cluster is looked up. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** A request ready to be forwarded: the exchange, and the route (agent) to forward it with. */
export interface PreparedRequest {
  exchange: Exchange;
  route: Route;
}

/** The upgrade protocols of the Kubernetes API: WebSocket (exec, attach, port-forward, logs, watch) and SPDY. */
const UPGRADES = /^(websocket|spdy\/3\.1)$/i;

/** An upgrade the proxy can forward: a known protocol, and no body (the pipe would not carry it). */
function checkUpgrade(headers: IncomingMessage['headers']): void {
  const protocol = headers.upgrade ?? '';
  if (!UPGRADES.test(protocol.trim())) {
    throw new BadRequestError(`the upgrade to ${JSON.stringify(protocol)} is not supported: the Kubernetes API upgrades to websocket or SPDY/3.1`);
  }
  if (hasRequestBody(headers)) throw new BadRequestError('an upgrade request must not carry a body');
}

function isStreaming(path: string): boolean {
  const q = path.indexOf('?');
  if (q === -1) return false;
  const params = new URLSearchParams(path.slice(q + 1));
  const on = (name: string) => ['1', 'true'].includes(params.get(name)?.toLowerCase() ?? '');
  return on('watch') || on('follow');
}

/**
 * The single preparation step every request takes, HTTP or upgrade alike: resolve the cluster,
 * decide whose identity goes upstream, obtain the credentials, and rewrite the request's headers
 * and URL for the cluster. Anything refused here never reaches the cluster.
 */
export function createPipeline(options: ResolvedOptions, registry: UpstreamRegistry) {
  return async function prepare(
    req: IncomingMessage,
    target: ClusterRequestPath,
    upgrade: boolean,
  ): Promise<PreparedRequest> {
    const method = req.method ?? 'GET';
    // An HTTP/0.9-style request line has no headers to authenticate nor framing to trust.
    if (req.httpVersionMajor !== 1) throw new BadRequestError('the request must be HTTP/1.0 or HTTP/1.1');
    if (!METHODS.has(method)) throw new MethodNotAllowedError(method);
    const headers = req.headers;
    if (upgrade) checkUpgrade(headers);
    const protocols = withoutBearerSubprotocol(headers['sec-websocket-protocol']);
    const upstream = await registry.get(target.cluster);
    const { cluster } = upstream;

    let userToken: UserToken | undefined;
    let session: string | undefined;
    if (cluster.authMode !== 'cluster') {
      userToken = findUserToken(req, options.tokenCookie);
      if (!userToken && options.sessions) {
        const fromSession = await options.sessions.tokenFor(req, cluster.sessionProvider);
        if (fromSession) {
          if (!isBearerToken(fromSession.token)) {
            throw new UnauthenticatedError(`cluster "${cluster.name}": the login session holds a token that cannot be sent in a header: log in again`, { cluster: cluster.name });
          }
          userToken = { token: fromSession.token, source: 'session' };
          session = fromSession.session;
        }
      }
      if ((userToken?.source === 'cookie' || userToken?.source === 'session') && (upgrade || headers.origin !== undefined)) {
        // Browsers attach cookies to requests any page starts, WebSockets included.
        if (!isOriginAllowed(req, options.allowedOrigins)) {
          throw new OriginRejectedError(
            `origin ${JSON.stringify(headers.origin ?? null)} may not use the token cookie of cluster "${cluster.name}"; ` +
              'add it to allowedOrigins if it is your dashboard',
            { cluster: cluster.name },
          );
        }
      }
      if (!userToken && (cluster.authMode === 'user' || cluster.authMode === 'impersonate')) {
        throw new UnauthenticatedError(
          `cluster "${cluster.name}" needs the user's token: send "Authorization: Bearer <token>", ` +
            `the WebSocket subprotocol "base64url.bearer.authorization.k8s.io.<token>" or the "${options.tokenCookie}" cookie` +
            (options.sessions ? ', or log in' : ''),
          { cluster: cluster.name },
        );
      }
    }

    let identity: RequestIdentity;
    let authorization: string | undefined;
    let route: Route;
    let obtained: ObtainedCredential | undefined;
    // The cluster's own identity, plus whom it impersonates: a fixed identity (kubeconfig `as`) or,
    // in 'impersonate' mode, the verified user.
    let impersonation: Record<string, string | string[]> = cluster.impersonationHeaders;
    if (userToken && cluster.authMode !== 'impersonate') {
      identity = { kind: 'user', source: userToken.source };
      authorization = `Bearer ${userToken.token}`;
      route = upstream.user;
    } else {
      if (userToken) {
        const verified = await upstream.verifier!.verify(userToken.token);
        identity = { kind: 'impersonated', source: userToken.source };
        impersonation = {
          'impersonate-user': utf8HeaderValue(verified.user),
          ...(verified.groups.length > 0 ? { 'impersonate-group': verified.groups.map(utf8HeaderValue) } : {}),
        };
      }
      const credentials = upstream.credentials!;
      identity ??= { kind: 'cluster', source: credentials.kind };
      obtained = await credentials.obtain();
      if (obtained.token !== undefined && !isBearerToken(obtained.token)) {
        throw new CredentialsUnavailableError(
          cluster.name,
          `cluster "${cluster.name}": its ${credentials.kind} credentials gave a token with characters that cannot be sent in a header (visible ASCII only); check what they produce`,
        );
      }
      authorization = obtained.token === undefined ? undefined : `Bearer ${obtained.token}`;
      route = upstream.own(obtained.certificate);
    }

    const clientCloses = connectionTokens(headers.connection).has('close');
    const out = upstreamRequestHeaders(headers, { upgrade, dropImpersonation: identity.kind !== 'user' });
    if (authorization !== undefined) out.authorization = authorization;
    if (identity.kind !== 'user') Object.assign(out, impersonation);
    if (protocols) out['sec-websocket-protocol'] = protocols;
    req.headers = out;

    const exchange: Exchange = {
      cluster,
      identity,
      credentials: identity.kind === 'user' ? undefined : upstream.credentials,
      credential: obtained,
      method,
      path: target.path,
      pathname: target.pathname,
      upgrade,
      streaming: !upgrade && isStreaming(target.path),
      timeoutMs: options.upstreamTimeout,
      startedAt: options.now(),
      session,
      clientCloses,
    };
    return { exchange, route };
  };
}

