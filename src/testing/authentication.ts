import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { OidcVerifier } from './oidc-verifier.ts';
import { StatusError, unauthorized } from './status.ts';

/** Who a request runs as, as kube-apiserver's `user.Info`. */
export interface UserInfo {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

/** A static token's user: a user name, or a user with groups (default: none besides `system:authenticated`). */
export type TokenUser = string | { user: string; groups?: string[] };

/** How a request authenticated. */
export type AuthenticationMethod = 'token' | 'certificate';

export interface Authenticated {
  readonly user: UserInfo;
  readonly by: AuthenticationMethod;
}

/** The WebSocket subprotocol entry that carries a bearer token (browsers cannot set Authorization). */
export const BEARER_PROTOCOL_PREFIX = 'base64url.bearer.authorization.k8s.io.';

const BASE64URL_UNPADDED = /^[A-Za-z0-9_-]*$/;

/** Sec-WebSocket-Protocol entries in the client's order. */
export function offeredProtocols(req: IncomingMessage): string[] {
  return (distinctHeaders(req)['sec-websocket-protocol'] ?? [])
    .flatMap((value) => value.split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/**
 * Every header's values, one per field line (`Impersonate-Group` may come several times). An
 * HTTP/2 request (node:http2's compatibility API) has no `headersDistinct`: its raw headers have them.
 */
function distinctHeaders(req: IncomingMessage): NodeJS.Dict<string[]> {
  if ((req as Partial<IncomingMessage>).headersDistinct !== undefined) return req.headersDistinct;
  const headers: NodeJS.Dict<string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    if (!name.startsWith(':')) (headers[name] ??= []).push(req.rawHeaders[i + 1]!);
  }
  return headers;
}

/** Extra keys are percent-encoded in header names; a malformed encoding is kept as is. */
function decodeHeaderKey(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

function withAuthenticatedGroup(username: string, groups: readonly string[]): string[] {
  const all = [...groups];
  // kube-apiserver adds these to every user it authenticates (service accounts get their own groups too).
  const serviceAccount = /^system:serviceaccount:([^:]+):[^:]+$/.exec(username);
  if (serviceAccount) all.push('system:serviceaccounts', `system:serviceaccounts:${serviceAccount[1] ?? ''}`);
  if (username !== 'system:anonymous' && !all.includes('system:authenticated')) all.push('system:authenticated');
  return all;
}

/**
 * kube-apiserver's authentication chain as far as the fake needs it: client certificate, then
 * `Authorization: Bearer`, then the WebSocket subprotocol token (each a static token or, with
 * `oidc`, an id token); then impersonation.
 */
export class Authenticator {
  readonly #tokens = new Map<string, UserInfo>();
  readonly #impersonators: ReadonlySet<string> | undefined;
  readonly #clientCertificates: boolean;
  readonly #oidc: OidcVerifier | undefined;

  constructor(options: {
    tokens: Record<string, TokenUser>;
    impersonators: readonly string[] | undefined;
    clientCertificates: boolean;
    oidc?: OidcVerifier | undefined;
  }) {
    for (const [token, user] of Object.entries(options.tokens)) {
      if (typeof user === 'string') this.addToken(token, user);
      else this.addToken(token, user.user, user.groups);
    }
    this.#impersonators = options.impersonators ? new Set(options.impersonators) : undefined;
    this.#clientCertificates = options.clientCertificates;
    this.#oidc = options.oidc;
  }

  addToken(token: string, username: string, groups: readonly string[] = []): void {
    if (typeof token !== 'string' || token === '' || /\s/.test(token)) {
      throw new TypeError('a token must be a non-empty string without whitespace');
    }
    if (typeof username !== 'string' || username === '') throw new TypeError(`the user of a token must be a non-empty string`);
    this.#tokens.set(token, { username, groups: withAuthenticatedGroup(username, groups) });
  }

  /** Rejects with a `StatusError` (401, 403, 500) when kube-apiserver would refuse the request. */
  async authenticate(req: IncomingMessage): Promise<Authenticated> {
    const authenticated = await this.#authenticateCredentials(req);
    return { user: this.#impersonate(req, authenticated.user), by: authenticated.by };
  }

  async #authenticateCredentials(req: IncomingMessage): Promise<Authenticated> {
    const socket = req.socket as TLSSocket;
    if (this.#clientCertificates && socket.authorized) {
      // A resumed TLS session may report `authorized` with no certificate (Node 22 does when the
      // client presented none): then it is not a certificate user, and the token decides.
      const subject = socket.getPeerCertificate()?.subject as { CN?: unknown; O?: string | string[] } | undefined;
      const commonName = subject?.CN;
      if (typeof commonName === 'string' && commonName !== '') {
        const organizations: string[] = subject?.O === undefined ? [] : ([] as string[]).concat(subject.O);
        return { user: { username: commonName, groups: withAuthenticatedGroup(commonName, organizations) }, by: 'certificate' };
      }
    }
    const [scheme, token] = (req.headers.authorization ?? '').split(' ');
    if (scheme?.toLowerCase() === 'bearer' && token) {
      const user = await this.#tokenUser(token);
      if (user) return { user, by: 'token' };
    }
    if (isWebSocketUpgrade(req)) {
      const protocolToken = this.#protocolToken(offeredProtocols(req));
      if (protocolToken !== undefined) {
        const user = await this.#tokenUser(protocolToken);
        if (user) return { user, by: 'token' };
      }
    }
    throw unauthorized();
  }

  /** Static tokens first, then OIDC id tokens, as kube-apiserver's union of token authenticators. */
  async #tokenUser(token: string): Promise<UserInfo | undefined> {
    const user = this.#tokens.get(token);
    if (user || !this.#oidc) return user;
    const verified = await this.#oidc.verify(token);
    return verified && { username: verified.username, groups: withAuthenticatedGroup(verified.username, verified.groups) };
  }

  /** The token of a `base64url.bearer.authorization.k8s.io.` entry, with the apiserver's rules. */
  #protocolToken(protocols: readonly string[]): string | undefined {
    const entries = protocols.filter((protocol) => protocol.startsWith(BEARER_PROTOCOL_PREFIX));
    if (entries.length === 0) return undefined;
    // The apiserver needs another subprotocol to echo once it removed the token entry.
    if (entries.length > 1 || entries.length === protocols.length) throw unauthorized();
    const encoded = entries[0]?.slice(BEARER_PROTOCOL_PREFIX.length) ?? '';
    if (!BASE64URL_UNPADDED.test(encoded) || encoded.length % 4 === 1) throw unauthorized();
    const decoded = Buffer.from(encoded, 'base64url');
    const token = new TextDecoder('utf-8', { fatal: false }).decode(decoded);
    if (token === '' || Buffer.from(token, 'utf8').compare(decoded) !== 0) throw unauthorized();
    return token;
  }

  #mayImpersonate(user: UserInfo): boolean {
    return this.#impersonators ? this.#impersonators.has(user.username) : user.groups.includes('system:masters');
  }

  #impersonate(req: IncomingMessage, user: UserInfo): UserInfo {
    const headers = distinctHeaders(req);
    const impersonatedUser = headers['impersonate-user']?.[0];
    const groups = headers['impersonate-group'] ?? [];
    const uid = headers['impersonate-uid']?.[0];
    const extra: Record<string, string[]> = {};
    for (const [name, values] of Object.entries(headers)) {
      if (name.startsWith('impersonate-extra-') && values) {
        extra[decodeHeaderKey(name.slice('impersonate-extra-'.length))] = values;
      }
    }
    const hasExtra = Object.keys(extra).length > 0;
    if (impersonatedUser === undefined) {
      if (groups.length > 0 || uid !== undefined || hasExtra) {
        throw new StatusError('InternalError', 'Internal error occurred: requested impersonation of groups, uid or extra without impersonating a user');
      }
      return user;
    }
    if (!this.#mayImpersonate(user)) {
      throw new StatusError(
        'Forbidden',
        `impersonation not allowed: users "${impersonatedUser}" is forbidden: User "${user.username}" cannot impersonate resource "users" in API group "" at the cluster scope`,
        { name: impersonatedUser, kind: 'users' },
      );
    }
    return {
      username: impersonatedUser,
      groups: withAuthenticatedGroup(impersonatedUser, groups),
      ...(uid !== undefined ? { uid } : {}),
      ...(hasExtra ? { extra } : {}),
    };
  }
}
