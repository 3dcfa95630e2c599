import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { isHttpToken } from '../checks.ts';
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
import { checkKnownOptions } from '../known-options.ts';
import { writeStatus } from '../status.ts';
import { memoryTokenStore } from '../tokens/memory-token-store.ts';
import { createRefreshOnce } from '../tokens/refresh-once.ts';
import type { TokenStore } from '../tokens/token-store.ts';
import { createConnectionTracker } from './connection-tracker.ts';
import { createStateSealer } from './oauth-state.ts';

/** One OpenID provider a session can hold tokens for. */
export interface OidcProviderOptions {
  /** The OpenID provider's issuer URL (discovery at `<issuer>/.well-known/openid-configuration`). Required. */
  issuer: string;
  /** The client registered at the provider. Required. */
  clientId: string;
  /** The client's secret; omit for a public client (PKCE protects the code either way). */
  clientSecret?: string;
  /** Scopes asked for. Default `['openid', 'profile', 'email', 'offline_access']`. */
  scopes?: readonly string[];
  /**
   * Extra authorization request parameters, e.g. `{ prompt: 'consent' }` for providers that grant
   * `offline_access` (a refresh token) only after an explicit consent. Default: none.
   */
  loginParams?: Readonly<Record<string, string>>;
  /** Which token goes to the clusters. Default `'id_token'` (what kube-apiserver's OIDC authenticator checks). */
  forward?: 'id_token' | 'access_token';
  /** PEM CA for the provider's TLS, besides Node's roots and `NODE_EXTRA_CA_CERTS`. */
  issuerCa?: string | Buffer;
}

/** Options of {@link oidcSessions}: the default provider's settings, and how sessions behave. */
export interface OidcSessionsOptions extends OidcProviderOptions {
  /**
   * More providers, by name, for clusters that trust another issuer: a cluster names its provider
   * with `sessionProvider`, and one session holds tokens for each provider the user logged in to
   * (`/login?provider=<name>`). The top-level settings are the provider `'default'`. Default: none.
   */
  providers?: Readonly<Record<string, OidcProviderOptions>>;
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
  /**
   * Milliseconds before expiry at which a token is refreshed. Default `60_000`. For tokens that
   * live shorter than twice this, half their lifetime is used instead, so that a short-lived token
   * is not refreshed on every request.
   */
  refreshSkew?: number;
  /** Session cookie name. Default `'cluster-session'`. */
  cookieName?: string;
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

/** Who the session is for, and how long it lives: the same for every provider. */
interface SessionIdentity {
  sub: string;
  email?: string;
  /** When the session ends (ms), whatever its refreshes. */
  endsAt: number;
}

/** One provider's tokens in a session. */
interface ProviderTokens {
  idToken?: string;
  accessToken?: string;
  refreshToken?: string;
  /** When the forwarded token expires (ms). */
  expiresAt: number;
  /** When it was obtained (ms): its lifetime bounds the refresh skew. */
  obtainedAt: number;
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
   * The token of the request's session for `provider` (a cluster's `sessionProvider`, else the
   * default one), refreshed when it is about to expire, or `undefined` when the request has no
   * session cookie.
   * @throws {ClusterProxyError} `401` when the session ended or holds no tokens for that provider, `503` when the provider or the store is unreachable.
   */
  tokenFor(req: IncomingMessage, provider?: string): Promise<SessionToken | undefined>;
  /** Ties an upgraded connection to its session: it is closed when the session ends. */
  track(session: string, socket: Duplex): void;
}

/** A request handler for Express (`app.use('/auth', sessions.router)`) or `node:http`. */
export type SessionRouter = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

/** The OIDC session component. */
export interface OidcSessions extends SessionTokenSource {
  /** `GET /login?returnTo=&provider=`, `GET /callback`, `POST /logout`, `GET /me`. */
  readonly router: SessionRouter;
  /** The providers' names: `'default'` and those of `providers`. */
  readonly providers: readonly string[];
  /** Stops the background checks and closes tracked connections. */
  close(): void;
}

const URL_OPTIONS = ['issuer'] as const;

const PROVIDER_OPTIONS = ['issuer', 'clientId', 'clientSecret', 'scopes', 'loginParams', 'forward', 'issuerCa'] as const;

function validateProvider(provider: OidcProviderOptions, at: string): void {
  if (typeof provider !== 'object' || provider === null) throw new InvalidOptionError(`${at} must be an object`);
  for (const key of URL_OPTIONS) {
    if (typeof provider[key] !== 'string' || !URL.canParse(provider[key]) || !/^https?:$/.test(new URL(provider[key]).protocol)) {
      throw new InvalidOptionError(`${at}.${key} must be an http(s) URL; got ${JSON.stringify(provider[key])}`);
    }
  }
  if (typeof provider.clientId !== 'string' || provider.clientId === '') throw new InvalidOptionError(`${at}.clientId is required`);
  if (provider.clientSecret !== undefined && typeof provider.clientSecret !== 'string') throw new InvalidOptionError(`${at}.clientSecret must be a string`);
  if (provider.forward !== undefined && provider.forward !== 'id_token' && provider.forward !== 'access_token') {
    throw new InvalidOptionError(`${at}.forward must be 'id_token' or 'access_token'`);
  }
  if (provider.scopes !== undefined && !(Array.isArray(provider.scopes) && provider.scopes.includes('openid'))) {
    throw new InvalidOptionError(`${at}.scopes must be an array that includes 'openid'`);
  }
  if (provider.loginParams !== undefined && !(typeof provider.loginParams === 'object' && Object.values(provider.loginParams).every((v) => typeof v === 'string'))) {
    throw new InvalidOptionError(`${at}.loginParams must map parameter names to strings`);
  }
}

function validate(options: OidcSessionsOptions): void {
  const at = 'oidcSessions';
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError(`${at}: options are required`);
  checkKnownOptions(
    options,
    [
      ...PROVIDER_OPTIONS,
      'providers',
      'redirectUri',
      'secret',
      'tokenStore',
      'refreshSkew',
      'cookieName',
      'trustProxy',
      'sessionTtlMs',
      'maxConnectionAgeMs',
      'logoutCheckIntervalMs',
      'loginTimeoutSeconds',
      'logger',
      'now',
    ],
    at,
  );
  validateProvider(options, at);
  for (const [name, provider] of Object.entries(options.providers ?? {})) {
    checkKnownOptions(provider, [...PROVIDER_OPTIONS], `${at}.providers.${name}`);
    if (name === 'default' || !/^[A-Za-z0-9._-]+$/.test(name)) throw new InvalidOptionError(`${at}.providers: ${JSON.stringify(name)} is not a usable provider name`);
    validateProvider(provider, `${at}.providers.${name}`);
  }
  if (typeof options.redirectUri !== 'string' || !URL.canParse(options.redirectUri) || !/^https?:$/.test(new URL(options.redirectUri).protocol)) {
    throw new InvalidOptionError(`${at}.redirectUri must be an http(s) URL; got ${JSON.stringify(options.redirectUri)}`);
  }
  const secretLength = typeof options.secret === 'string' ? options.secret.length : options.secret instanceof Uint8Array ? options.secret.byteLength : 0;
  if (secretLength < 32) throw new InvalidOptionError(`${at}.secret must be at least 32 characters (or bytes), the same on every replica`);
  const store = options.tokenStore;
  if (store !== undefined && !(['get', 'set', 'delete'] as const).every((m) => typeof store[m] === 'function')) {
    throw new InvalidOptionError(`${at}.tokenStore must implement get, set and delete`);
  }
  for (const key of ['refreshSkew', 'sessionTtlMs', 'maxConnectionAgeMs', 'logoutCheckIntervalMs', 'loginTimeoutSeconds'] as const) {
    const value = options[key];
    if (value !== undefined && !(typeof value === 'number' && value >= 0 && Number.isFinite(value))) {
      throw new InvalidOptionError(`${at}.${key} must be a non-negative number`);
    }
  }
  if (options.cookieName !== undefined && !isHttpToken(options.cookieName)) {
    throw new InvalidOptionError(`${at}.cookieName ${JSON.stringify(options.cookieName)} is not a valid cookie name`);
  }
}

/** A path on this site to return to after the login; anything else (another site, `//host`) becomes `/`. */
function safeReturnTo(value: string | null): string {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.includes('\\') || /[\r\n]/.test(value)) return '/';
  return value;
}

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * Browser logins with OpenID Connect (authorization code + PKCE, state and nonce), with the
 * sessions server-side in a {@link TokenStore}: the cookie holds only a random 256-bit id, so no
 * header grows with the tokens. Plug it into the proxy with `createClusterProxy({ sessions })`:
 * `'user'` clusters then take the session's token, for HTTP and upgrades alike, refreshed shortly
 * before it expires, one refresh per session and provider across every replica sharing the store.
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
  const loginTimeoutSeconds = options.loginTimeoutSeconds ?? DEFAULTS.loginTimeoutSeconds;
  const redirectUri = new URL(options.redirectUri);
  const providers = new Map(
    Object.entries({ default: options, ...options.providers }).map(([name, p]) => [
      name,
      {
        name,
        issuer: p.issuer,
        client: createIssuerClient({ issuer: p.issuer, clientId: p.clientId, clientSecret: p.clientSecret, ca: p.issuerCa }),
        scopes: p.scopes ?? DEFAULTS.scopes,
        loginParams: p.loginParams ?? {},
        forward: p.forward ?? DEFAULTS.forward,
      },
    ]),
  );
  type Provider = NonNullable<ReturnType<typeof providers.get>>;
  const sealer = createStateSealer(options.secret, loginTimeoutSeconds, now);
  const refreshOnce = createRefreshOnce(store);
  const tracker = createConnectionTracker({
    exists: async (key) => (await store.get(key)) !== undefined,
    checkIntervalMs: options.logoutCheckIntervalMs ?? DEFAULTS.logoutCheckIntervalMs,
    maxAgeMs: options.maxConnectionAgeMs,
    onError: () => {},
  });

  /** The store key of a session: a hash, so that a copy of the store holds no usable cookie. */
  const sessionKey = (id: string) => `session:${createHash('sha256').update(id).digest('base64url')}`;
  /** Each provider's tokens under their own key: two providers refreshing at once cannot overwrite each other. */
  const tokensKey = (session: string, provider: string) => `${session}:tokens:${provider}`;

  async function storeCall<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof ClusterProxyError) throw error;
      throw new TokenStoreUnavailableError(`the session store is unavailable (${what}): ${describeError(error)}; try again shortly`, { cause: error });
    }
  }

  async function read<T extends object>(key: string, valid: (value: T) => boolean): Promise<T | undefined> {
    const raw = await storeCall('read', () => store.get(key));
    if (raw === undefined) return undefined;
    try {
      const value = JSON.parse(raw) as T;
      if (typeof value === 'object' && value !== null && valid(value)) return value;
    } catch {
      // Reported below.
    }
    logger.error('kube-cluster-proxy: a session entry in the store is unreadable and was ignored');
    return undefined;
  }

  const readIdentity = (session: string) => read<SessionIdentity>(session, (v) => typeof v.sub === 'string' && typeof v.endsAt === 'number');
  const readTokens = (session: string, provider: string) =>
    read<ProviderTokens>(tokensKey(session, provider), (v) => typeof v.expiresAt === 'number' && typeof v.obtainedAt === 'number');

  async function write(key: string, value: object, endsAt: number): Promise<void> {
    const ttl = endsAt - now();
    if (ttl <= 0) return storeCall('delete', () => store.delete(key));
    await storeCall('write', () => store.set(key, JSON.stringify(value), ttl));
  }

  function tokensFrom(provider: Provider, tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers, previous?: ProviderTokens): ProviderTokens {
    const idToken = tokens.id_token ?? previous?.idToken;
    const forwarded = provider.forward === 'id_token' ? idToken : tokens.access_token;
    if (!forwarded) throw new Error(`the provider answered without an ${provider.forward}`);
    let expiresAt: number;
    if (provider.forward === 'id_token' && idToken) {
      const exp = decodeJwt(idToken).exp;
      expiresAt = typeof exp === 'number' ? exp * 1000 : now() + 300_000;
    } else {
      const lifetime = tokens.expiresIn();
      expiresAt = now() + (lifetime === undefined ? 300_000 : lifetime * 1000);
    }
    // Providers that rotate send a new refresh token; others keep the old one valid.
    const refreshToken = tokens.refresh_token ?? previous?.refreshToken;
    return {
      ...(idToken ? { idToken } : {}),
      accessToken: tokens.access_token,
      ...(refreshToken ? { refreshToken } : {}),
      expiresAt,
      obtainedAt: now(),
    };
  }

  /** Whether the token is good for a while: not within the skew of its expiry. */
  function fresh(tokens: ProviderTokens): boolean {
    const skew = Math.min(refreshSkew, Math.max(0, tokens.expiresAt - tokens.obtainedAt) / 2);
    return tokens.expiresAt - now() > skew;
  }

  function secure(req: IncomingMessage): boolean {
    if ((req.socket as { encrypted?: boolean }).encrypted) return true;
    return (options.trustProxy ?? DEFAULTS.trustProxy) && String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]?.trim() === 'https';
  }

  function cookie(req: IncomingMessage, name: string, value: string, path: string, maxAgeSeconds: number): string {
    return `${name}=${value}; Path=${path}; HttpOnly; SameSite=Lax; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}${secure(req) ? '; Secure' : ''}`;
  }

  const sessionEnded = (req: IncomingMessage, message: string) =>
    new UnauthenticatedError(`${message}: log in again`, { headers: { 'set-cookie': cookie(req, cookieName, '', '/', 0) } });

  const providerUnreachable = (provider: Provider, error: unknown, what: string) =>
    new CredentialsUnavailableError(undefined, `the identity provider ${provider.issuer} is unreachable (${what}): ${describeIssuerError(error)}; try again shortly`, {
      cause: error,
      headers: { 'retry-after': '5' },
    });

  async function endSession(session: string): Promise<void> {
    await storeCall('delete', () => store.delete(session));
    await Promise.all([...providers.keys()].map((name) => storeCall('delete', () => store.delete(tokensKey(session, name)))));
    tracker.closeSession(session);
  }

  async function refresh(session: string, provider: Provider, req: IncomingMessage): Promise<ProviderTokens> {
    const identity = await readIdentity(session);
    const tokens = await readTokens(session, provider.name);
    if (!identity || !tokens) throw sessionEnded(req, 'your session has ended');
    if (!tokens.refreshToken) throw sessionEnded(req, 'your session expired and cannot be refreshed (the provider gave no refresh token)');
    let answer;
    try {
      answer = await client.refreshTokenGrant(await provider.client.configuration(), tokens.refreshToken);
    } catch (error) {
      if (isInvalidGrant(error)) {
        await endSession(session);
        throw sessionEnded(req, 'the identity provider ended your session (invalid_grant)');
      }
      throw providerUnreachable(provider, error, 'refresh');
    }
    const next = tokensFrom(provider, answer, tokens);
    // The rotated refresh token is stored before anyone uses the new token: a replica that read
    // the old tokens meanwhile finds the new ones when it takes the lock.
    await write(tokensKey(session, provider.name), next, identity.endsAt);
    return next;
  }

  const tokenFor: SessionTokenSource['tokenFor'] = async (req, providerName = 'default') => {
    const id = parseCookies(req.headers.cookie).get(cookieName);
    if (id === undefined || id === '') return undefined;
    if (!SESSION_ID.test(id)) throw sessionEnded(req, 'the session cookie is not valid');
    const provider = providers.get(providerName);
    if (!provider) throw new SessionError(`no session provider is named "${providerName}"; the proxy's sessions know ${[...providers.keys()].join(', ')}`);
    const session = sessionKey(id);
    if (!(await readIdentity(session))) throw sessionEnded(req, 'your session has expired or ended');
    let tokens = await readTokens(session, provider.name);
    if (!tokens) {
      throw new UnauthenticatedError(`your session has no login with the provider "${provider.name}" yet: log in at /login?provider=${provider.name}`);
    }
    if (!fresh(tokens)) {
      tokens = await refreshOnce.run(
        tokensKey(session, provider.name),
        async () => {
          const current = await readTokens(session, provider.name);
          return current && fresh(current) ? current : undefined;
        },
        () => refresh(session, provider, req),
      );
    }
    return { token: (provider.forward === 'id_token' ? tokens.idToken : tokens.accessToken) ?? '', session };
  };

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  async function login(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const providerName = query.get('provider') ?? 'default';
    const provider = providers.get(providerName);
    if (!provider) throw new SessionError(`no session provider is named "${providerName}"`);
    const verifier = client.randomPKCECodeVerifier();
    const state = await sealer.seal({ verifier, nonce: client.randomNonce(), returnTo: safeReturnTo(query.get('returnTo')), provider: provider.name });
    let configuration;
    try {
      configuration = await provider.client.configuration();
    } catch (error) {
      throw providerUnreachable(provider, error, 'discovery');
    }
    const url = client.buildAuthorizationUrl(configuration, {
      ...provider.loginParams,
      redirect_uri: redirectUri.href,
      scope: provider.scopes.join(' '),
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
    const refuse = (message: string) => new SessionError(message, { headers: { 'set-cookie': clearState } });
    const providerError = query.get('error');
    if (providerError) {
      throw new UnauthenticatedError(`the identity provider refused the login: ${providerError.slice(0, 100)}`, { headers: { 'set-cookie': clearState } });
    }
    const sealed = query.get('state');
    if (!sealed || !query.get('code')) throw refuse('the callback lacks its code or state: start the login again');
    const state = await sealer.open(sealed);
    const provider = providers.get(state.provider);
    if (!provider) throw refuse('the login was for a provider that is no longer configured: start the login again');
    if (parseCookies(req.headers.cookie).get(stateCookie) !== state.jti) {
      throw refuse('this login was started in another browser (or its cookie expired): start the login again');
    }
    const usedKey = `oauth-state-used:${state.jti}`;
    if ((await storeCall('read', () => store.get(usedKey))) !== undefined) throw refuse('this login callback was already used: start the login again');
    await storeCall('write', () => store.set(usedKey, '1', loginTimeoutSeconds * 1000));
    const current = new URL(redirectUri.href);
    current.search = query.toString();
    let answer;
    try {
      answer = await client.authorizationCodeGrant(await provider.client.configuration(), current, {
        pkceCodeVerifier: state.verifier,
        expectedState: sealed,
        expectedNonce: state.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      if (error instanceof client.ResponseBodyError) {
        throw new UnauthenticatedError(`the identity provider refused the login (${error.error}): start the login again`, { headers: { 'set-cookie': clearState } });
      }
      throw providerUnreachable(provider, error, 'login');
    }
    const claims = answer.claims();
    // A login with another provider joins the session the browser already has.
    const existingId = parseCookies(req.headers.cookie).get(cookieName);
    const existing = existingId && SESSION_ID.test(existingId) ? await readIdentity(sessionKey(existingId)) : undefined;
    const id = existing ? existingId! : randomBytes(32).toString('base64url');
    const session = sessionKey(id);
    const identity: SessionIdentity = existing ?? {
      sub: String(claims?.sub ?? ''),
      ...(typeof claims?.email === 'string' ? { email: claims.email } : {}),
      endsAt: now() + sessionTtlMs,
    };
    await write(tokensKey(session, provider.name), tokensFrom(provider, answer), identity.endsAt);
    if (!existing) await write(session, identity, identity.endsAt);
    res.writeHead(302, {
      location: state.returnTo,
      'cache-control': 'no-store',
      'set-cookie': [clearState, cookie(req, cookieName, id, '/', (identity.endsAt - now()) / 1000)],
    });
    res.end();
  }

  async function logout(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const id = parseCookies(req.headers.cookie).get(cookieName);
    if (id && SESSION_ID.test(id)) await endSession(sessionKey(id));
    send(res, 200, { authenticated: false }, { 'set-cookie': cookie(req, cookieName, '', '/', 0) });
  }

  async function me(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const id = parseCookies(req.headers.cookie).get(cookieName);
    const session = id && SESSION_ID.test(id) ? sessionKey(id) : undefined;
    const identity = session ? await readIdentity(session) : undefined;
    if (!session || !identity) {
      send(res, 200, { authenticated: false });
      return;
    }
    const logins: Record<string, { expiresAt: string }> = {};
    for (const name of providers.keys()) {
      const tokens = await readTokens(session, name);
      if (tokens) logins[name] = { expiresAt: new Date(tokens.expiresAt).toISOString() };
    }
    const first = logins.default ?? Object.values(logins)[0];
    send(res, 200, { authenticated: true, sub: identity.sub, email: identity.email ?? null, expiresAt: first?.expiresAt ?? null, providers: logins });
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
    providers: [...providers.keys()],
    tokenFor,
    track: (session, socket) => tracker.track(session, socket),
    close: () => tracker.close(),
  };
}
