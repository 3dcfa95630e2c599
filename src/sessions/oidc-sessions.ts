import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { describeError } from '../credentials/cluster-credentials.ts';
import { parseCookies } from '../credentials/cookies.ts';
import { createIssuerClient, describeIssuerError, isInvalidGrant } from '../credentials/oidc-issuer.ts';
import {
  ClusterProxyError,
  CredentialsUnavailableError,
  InvalidOptionError,
  SessionError,
  TokenStoreUnavailableError,
  UnauthenticatedError,
} from '../errors.ts';
import { writeStatus } from '../status.ts';
import { memoryTokenStore } from '../tokens/memory-token-store.ts';
import { createRefreshOnce } from '../tokens/refresh-once.ts';
import type { TokenStore } from '../tokens/token-store.ts';
import { createConnectionTracker } from './connection-tracker.ts';
import { createStateSealer } from './oauth-state.ts';

/** Options of {@link oidcSessions}. */
export interface OidcSessionsOptions {
  /** The OpenID provider's issuer URL (discovery at `<issuer>/.well-known/openid-configuration`). Required. */
  issuer: string;
  /** The client registered at the provider. Required. */
  clientId: string;
  /** The client's secret; omit for a public client (PKCE protects the code either way). */
  clientSecret?: string;
  /** The callback URL registered at the provider, served by `router` at `<mount>/callback`. Required. */
  redirectUri: string;
  /**
   * At least 32 characters (or bytes), the same on every replica: it encrypts the OAuth state, so
   * that any replica can finish a login another one started. Required.
   */
  secret: string | Uint8Array;
  /**
   * Where sessions live. Share one (`redisTokenStore`) between replicas; the default is private to
   * this process, so a restart logs everyone out (a warning says so when NODE_ENV is production).
   */
  tokenStore?: TokenStore;
  /** Scopes asked for. Default `['openid', 'profile', 'email', 'offline_access']`. */
  scopes?: readonly string[];
  /**
   * Extra authorization request parameters, e.g. `{ prompt: 'consent' }` for providers that grant
   * `offline_access` (a refresh token) only after an explicit consent. Default: none.
   */
  loginParams?: Readonly<Record<string, string>>;
  /**
   * Milliseconds before expiry at which a token is refreshed. Default `60_000`. For tokens that
   * live shorter than twice this, half their lifetime is used instead, so that a short-lived token
   * is not refreshed on every request.
   */
  refreshSkew?: number;
  /** Session cookie name. Default `'cluster-session'`. */
  cookieName?: string;
  /** Which token goes to the clusters. Default `'id_token'` (what kube-apiserver's OIDC authenticator checks). */
  forward?: 'id_token' | 'access_token';
  /** PEM CA for the provider's TLS, besides Node's roots and `NODE_EXTRA_CA_CERTS`. */
  issuerCa?: string | Buffer;
  /** Trust `X-Forwarded-Proto: https` from a TLS-terminating proxy for the cookie's `Secure`. Default `false`. */
  trustProxy?: boolean;
  /** How long a session lives at most, in ms, whatever its refreshes. Default `12 * 3600_000` (12 h). */
  sessionTtlMs?: number;
  /** Longest life of an upgraded connection (exec, logs, watch), in ms. Default: no limit. */
  maxConnectionAgeMs?: number;
  /** How often replicas look for sessions ended elsewhere, to close their connections, in ms. Default `500`. */
  logoutCheckIntervalMs?: number;
  /** How long a login may take at the provider, in seconds. Default `600`. */
  loginTimeoutSeconds?: number;
  /** Where problems go (never with a token). Default `console`. */
  logger?: Pick<Console, 'warn' | 'error'>;
  /** Clock in ms since the epoch, for tests. Default `Date.now`. */
  now?: () => number;
}

const DEFAULTS = {
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  refreshSkew: 60_000,
  cookieName: 'cluster-session',
  forward: 'id_token',
  trustProxy: false,
  sessionTtlMs: 12 * 3600_000,
  logoutCheckIntervalMs: 500,
  loginTimeoutSeconds: 600,
} as const satisfies Partial<OidcSessionsOptions>;

/** What the session component keeps per session, in the token store. */
interface SessionRecord {
  sub: string;
  email?: string;
  idToken?: string;
  accessToken?: string;
  refreshToken?: string;
  /** When the forwarded token expires (ms). */
  expiresAt: number;
  /** When it was obtained (ms): its lifetime bounds the refresh skew. */
  obtainedAt: number;
  /** When the session itself ends (ms). */
  endsAt: number;
}

/** The session token for one request. */
export interface SessionToken {
  token: string;
  /** An opaque key of the session (not the cookie value), for tying connections to it. */
  session: string;
}

/**
 * What the proxy needs from a session component: `createClusterProxy({ sessions })`.
 * {@link oidcSessions} is one; any object with these two methods can be another.
 */
export interface SessionTokenSource {
  /**
   * The token of the request's session, refreshed when it is about to expire, or `undefined` when
   * the request has no session cookie.
   * @throws {ClusterProxyError} `401` when the session ended, `503` when the provider or the store is unreachable.
   */
  tokenFor(req: IncomingMessage): Promise<SessionToken | undefined>;
  /** Ties an upgraded connection to its session: it is closed when the session ends. */
  track(session: string, socket: Duplex): void;
}

/** A request handler for Express (`app.use('/auth', sessions.router)`) or `node:http`. */
export type SessionRouter = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

/** The OIDC session component. */
export interface OidcSessions extends SessionTokenSource {
  /** `GET /login?returnTo=`, `GET /callback`, `POST /logout`, `GET /me`. */
  readonly router: SessionRouter;
  /** Stops the background checks and closes tracked connections. */
  close(): void;
}

function validate(options: OidcSessionsOptions): void {
  const at = 'oidcSessions';
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError(`${at}: options are required`);
  for (const key of ['issuer', 'redirectUri'] as const) {
    let url: URL | undefined;
    try {
      url = new URL(options[key]);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      throw new InvalidOptionError(`${at}: ${key} must be an http(s) URL; got ${JSON.stringify(options[key])}`);
    }
  }
  if (typeof options.clientId !== 'string' || options.clientId === '') throw new InvalidOptionError(`${at}: clientId is required`);
  if (options.clientSecret !== undefined && typeof options.clientSecret !== 'string') throw new InvalidOptionError(`${at}: clientSecret must be a string`);
  const secretLength = typeof options.secret === 'string' ? options.secret.length : options.secret instanceof Uint8Array ? options.secret.byteLength : 0;
  if (secretLength < 32) throw new InvalidOptionError(`${at}: secret must be at least 32 characters (or bytes), the same on every replica`);
  const store = options.tokenStore;
  if (store !== undefined && !(['get', 'set', 'delete'] as const).every((m) => typeof store[m] === 'function')) {
    throw new InvalidOptionError(`${at}: tokenStore must implement get, set and delete`);
  }
  for (const key of ['refreshSkew', 'sessionTtlMs', 'maxConnectionAgeMs', 'logoutCheckIntervalMs', 'loginTimeoutSeconds'] as const) {
    const value = options[key];
    if (value !== undefined && !(typeof value === 'number' && value >= 0 && Number.isFinite(value))) {
      throw new InvalidOptionError(`${at}: ${key} must be a non-negative number`);
    }
  }
  if (options.forward !== undefined && options.forward !== 'id_token' && options.forward !== 'access_token') {
    throw new InvalidOptionError(`${at}: forward must be 'id_token' or 'access_token'`);
  }
  if (options.cookieName !== undefined && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(options.cookieName)) {
    throw new InvalidOptionError(`${at}: cookieName ${JSON.stringify(options.cookieName)} is not a valid cookie name`);
  }
  if (options.scopes !== undefined && !(Array.isArray(options.scopes) && options.scopes.includes('openid'))) {
    throw new InvalidOptionError(`${at}: scopes must be an array that includes 'openid'`);
  }
}

/** A path on this site to return to after the login; anything else (another site, `//host`) becomes `/`. */
function safeReturnTo(value: string | null): string {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.includes('\\') || /[\r\n]/.test(value)) return '/';
  return value;
}

/**
 * Browser logins with OpenID Connect (authorization code + PKCE, state and nonce), with the
 * sessions server-side in a {@link TokenStore}: the cookie holds only a random 256-bit id, so no
 * header grows with the tokens. Plug it into the proxy with `createClusterProxy({ sessions })`:
 * `'user'` clusters then take the session's token, for HTTP and upgrades alike, refreshed shortly
 * before it expires, one refresh per session across every replica sharing the store.
 * @throws {InvalidOptionError} for invalid options, naming them.
 */
export function oidcSessions(options: OidcSessionsOptions): OidcSessions {
  validate(options);
  const logger = options.logger ?? console;
  const now = options.now ?? Date.now;
  const store = options.tokenStore ?? memoryTokenStore();
  if (!options.tokenStore && process.env.NODE_ENV === 'production') {
    logger.warn('kube-cluster-proxy: oidcSessions keeps sessions in memory: a restart logs everyone out, and other replicas do not see them; pass a shared tokenStore (redisTokenStore)');
  }
  const cookieName = options.cookieName ?? DEFAULTS.cookieName;
  const stateCookie = `${cookieName}-login`;
  const refreshSkew = options.refreshSkew ?? DEFAULTS.refreshSkew;
  const sessionTtlMs = options.sessionTtlMs ?? DEFAULTS.sessionTtlMs;
  const forward = options.forward ?? DEFAULTS.forward;
  const loginTimeoutSeconds = options.loginTimeoutSeconds ?? DEFAULTS.loginTimeoutSeconds;
  const redirectUri = new URL(options.redirectUri);
  const issuer = createIssuerClient({ issuer: options.issuer, clientId: options.clientId, clientSecret: options.clientSecret, ca: options.issuerCa });
  const sealer = createStateSealer(options.secret, loginTimeoutSeconds);
  const refreshOnce = createRefreshOnce(store);
  const tracker = createConnectionTracker({
    exists: async (key) => (await store.get(key)) !== undefined,
    checkIntervalMs: options.logoutCheckIntervalMs ?? DEFAULTS.logoutCheckIntervalMs,
    maxAgeMs: options.maxConnectionAgeMs,
    onError: () => {},
  });

  /** The store key of a session: a hash, so that a copy of the store holds no usable cookie. */
  const sessionKey = (id: string) => `session:${createHash('sha256').update(id).digest('base64url')}`;

  async function storeCall<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof ClusterProxyError) throw error;
      throw new TokenStoreUnavailableError(`the session store is unavailable (${what}): ${describeError(error)}; try again shortly`, { cause: error });
    }
  }

  async function readRecord(key: string): Promise<SessionRecord | undefined> {
    const raw = await storeCall('read', () => store.get(key));
    if (raw === undefined) return undefined;
    try {
      const record = JSON.parse(raw) as SessionRecord;
      if (typeof record.sub !== 'string' || typeof record.expiresAt !== 'number') throw new Error('not a session record');
      return record;
    } catch {
      logger.error('kube-cluster-proxy: a session in the store is unreadable and was ignored');
      return undefined;
    }
  }

  async function writeRecord(key: string, record: SessionRecord): Promise<void> {
    const ttl = record.endsAt - now();
    if (ttl <= 0) return storeCall('delete', () => store.delete(key));
    await storeCall('write', () => store.set(key, JSON.stringify(record), ttl));
  }

  function recordFrom(tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers, previous?: SessionRecord): SessionRecord {
    const claims = tokens.claims();
    const idToken = tokens.id_token ?? previous?.idToken;
    const forwarded = forward === 'id_token' ? idToken : tokens.access_token;
    let expiresAt: number;
    if (forward === 'id_token' && idToken) {
      const exp = decodeJwt(idToken).exp;
      expiresAt = typeof exp === 'number' ? exp * 1000 : now() + 300_000;
    } else {
      const lifetime = tokens.expiresIn();
      expiresAt = now() + (lifetime === undefined ? 300_000 : lifetime * 1000);
    }
    if (!forwarded) throw new Error(`the provider answered without an ${forward}`);
    return {
      sub: (claims?.sub ?? previous?.sub) as string,
      ...(typeof claims?.email === 'string' ? { email: claims.email } : previous?.email ? { email: previous.email } : {}),
      ...(idToken ? { idToken } : {}),
      accessToken: tokens.access_token,
      // Providers that rotate send a new refresh token; others keep the old one valid.
      ...((tokens.refresh_token ?? previous?.refreshToken) ? { refreshToken: tokens.refresh_token ?? previous?.refreshToken } : {}),
      expiresAt,
      obtainedAt: now(),
      endsAt: previous?.endsAt ?? now() + sessionTtlMs,
    };
  }

  /** Whether the record's token is good for a while: not within the skew of its expiry. */
  function fresh(record: SessionRecord): boolean {
    const skew = Math.min(refreshSkew, Math.max(0, record.expiresAt - record.obtainedAt) / 2);
    return record.expiresAt - now() > skew;
  }

  function forwardedToken(record: SessionRecord): string {
    return (forward === 'id_token' ? record.idToken : record.accessToken) ?? '';
  }

  function secure(req: IncomingMessage): boolean {
    if ((req.socket as { encrypted?: boolean }).encrypted) return true;
    return (options.trustProxy ?? DEFAULTS.trustProxy) && String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]?.trim() === 'https';
  }

  function cookie(req: IncomingMessage, name: string, value: string, path: string, maxAgeSeconds: number, sameSite: 'Lax' | 'Strict' = 'Lax'): string {
    return `${name}=${value}; Path=${path}; HttpOnly; SameSite=${sameSite}; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}${secure(req) ? '; Secure' : ''}`;
  }

  const sessionEnded = (req: IncomingMessage, message: string) =>
    new UnauthenticatedError(`${message}: log in again`, { headers: { 'set-cookie': cookie(req, cookieName, '', '/', 0) } });

  async function refresh(key: string, req: IncomingMessage): Promise<SessionRecord> {
    const record = await readRecord(key);
    if (!record) throw sessionEnded(req, 'your session has ended');
    if (!record.refreshToken) throw sessionEnded(req, 'your session expired and cannot be refreshed (the provider gave no refresh token)');
    let tokens;
    try {
      tokens = await client.refreshTokenGrant(await issuer.configuration(), record.refreshToken);
    } catch (error) {
      if (isInvalidGrant(error)) {
        await storeCall('delete', () => store.delete(key));
        tracker.closeSession(key);
        throw sessionEnded(req, 'the identity provider ended your session (invalid_grant)');
      }
      throw new CredentialsUnavailableError(undefined, `the identity provider ${options.issuer} is unreachable: ${describeIssuerError(error)}; your session is kept, try again shortly`, {
        cause: error,
        headers: { 'retry-after': '5' },
      });
    }
    const next = recordFrom(tokens, record);
    // The rotated refresh token is stored before anyone uses the new token: a replica that read
    // the old record meanwhile finds the new one when it takes the lock.
    await writeRecord(key, next);
    return next;
  }

  const tokenFor: SessionTokenSource['tokenFor'] = async (req) => {
    const id = parseCookies(req.headers.cookie).get(cookieName);
    if (id === undefined || id === '') return undefined;
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) throw sessionEnded(req, 'the session cookie is not valid');
    const key = sessionKey(id);
    let record = await readRecord(key);
    if (!record) throw sessionEnded(req, 'your session has expired or ended');
    if (!fresh(record)) {
      record = await refreshOnce.run(
        key,
        async () => {
          const current = await readRecord(key);
          return current && fresh(current) ? current : undefined;
        },
        () => refresh(key, req),
      );
    }
    return { token: forwardedToken(record), session: key };
  };

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  async function login(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const verifier = client.randomPKCECodeVerifier();
    const state = await sealer.seal({ verifier, nonce: client.randomNonce(), returnTo: safeReturnTo(query.get('returnTo')) });
    let configuration;
    try {
      configuration = await issuer.configuration();
    } catch (error) {
      throw new CredentialsUnavailableError(undefined, `the identity provider ${options.issuer} is unreachable: ${describeIssuerError(error)}`, {
        cause: error,
        headers: { 'retry-after': '5' },
      });
    }
    const url = client.buildAuthorizationUrl(configuration, {
      ...options.loginParams,
      redirect_uri: redirectUri.href,
      scope: (options.scopes ?? DEFAULTS.scopes).join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: state.sealed,
      nonce: state.nonce,
    });
    res.writeHead(302, {
      location: url.href,
      'cache-control': 'no-store',
      // Binds the login to this browser: a callback URL sent to someone else does not log them in.
      'set-cookie': cookie(req, stateCookie, state.jti, redirectUri.pathname, loginTimeoutSeconds),
    });
    res.end();
  }

  async function callback(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const clearState = cookie(req, stateCookie, '', redirectUri.pathname, 0);
    const providerError = query.get('error');
    if (providerError) {
      throw new UnauthenticatedError(`the identity provider refused the login: ${providerError.slice(0, 100)}`, { headers: { 'set-cookie': clearState } });
    }
    const sealed = query.get('state');
    if (!sealed || !query.get('code')) throw new SessionError('the callback lacks its code or state: start the login again', { headers: { 'set-cookie': clearState } });
    const state = await sealer.open(sealed);
    if (parseCookies(req.headers.cookie).get(stateCookie) !== state.jti) {
      throw new SessionError('this login was started in another browser (or its cookie expired): start the login again', { headers: { 'set-cookie': clearState } });
    }
    const usedKey = `oauth-state-used:${state.jti}`;
    if ((await storeCall('read', () => store.get(usedKey))) !== undefined) {
      throw new SessionError('this login callback was already used: start the login again', { headers: { 'set-cookie': clearState } });
    }
    await storeCall('write', () => store.set(usedKey, '1', loginTimeoutSeconds * 1000));
    const current = new URL(redirectUri.href);
    current.search = query.toString();
    let tokens;
    try {
      tokens = await client.authorizationCodeGrant(await issuer.configuration(), current, {
        pkceCodeVerifier: state.verifier,
        expectedState: sealed,
        expectedNonce: state.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      if (error instanceof client.ResponseBodyError) {
        throw new UnauthenticatedError(`the identity provider refused the login (${error.error}): start the login again`, { headers: { 'set-cookie': clearState } });
      }
      throw new CredentialsUnavailableError(undefined, `the login could not be completed with ${options.issuer}: ${describeIssuerError(error)}`, { cause: error });
    }
    const id = randomBytes(32).toString('base64url');
    const record = recordFrom(tokens);
    await writeRecord(sessionKey(id), record);
    res.writeHead(302, {
      location: state.returnTo,
      'cache-control': 'no-store',
      'set-cookie': [clearState, cookie(req, cookieName, id, '/', (record.endsAt - now()) / 1000)],
    });
    res.end();
  }

  async function logout(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const id = parseCookies(req.headers.cookie).get(cookieName);
    if (id && /^[A-Za-z0-9_-]{43}$/.test(id)) {
      const key = sessionKey(id);
      await storeCall('delete', () => store.delete(key));
      tracker.closeSession(key);
    }
    send(res, 200, { authenticated: false }, { 'set-cookie': cookie(req, cookieName, '', '/', 0) });
  }

  async function me(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const id = parseCookies(req.headers.cookie).get(cookieName);
    const record = id && /^[A-Za-z0-9_-]{43}$/.test(id) ? await readRecord(sessionKey(id)) : undefined;
    if (!record) {
      send(res, 200, { authenticated: false });
      return;
    }
    send(res, 200, { authenticated: true, sub: record.sub, email: record.email ?? null, expiresAt: new Date(record.expiresAt).toISOString() });
  }

  const router: SessionRouter = function sessionRouter(req, res, next) {
    const url = new URL(req.url ?? '/', 'http://session.invalid');
    const route = `${req.method ?? 'GET'} ${url.pathname.replace(/\/+$/, '') || '/'}`;
    const handlers: Record<string, () => Promise<void>> = {
      'GET /login': () => login(req, res, url.searchParams),
      'GET /callback': () => callback(req, res, url.searchParams),
      'POST /logout': () => logout(req, res),
      'GET /me': () => me(req, res),
    };
    const handle = handlers[route];
    if (!handle) {
      if (next) next();
      else send(res, 404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'not found', reason: 'NotFound', code: 404 });
      return;
    }
    handle().catch((error: unknown) => {
      if (!(error instanceof ClusterProxyError)) logger.error('kube-cluster-proxy: session route failed:', error);
      writeStatus(res, error instanceof ClusterProxyError ? error : new SessionError('the session request failed'));
    });
  };

  return {
    router,
    tokenFor,
    track: (session, socket) => tracker.track(session, socket),
    close: () => tracker.close(),
  };
}
