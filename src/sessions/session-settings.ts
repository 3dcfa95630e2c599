import { isHttpToken, isHttpUrl, isTokenStore } from '../checks.ts';
import { InvalidOptionError } from '../errors.ts';
import { checkKnownOptions } from '../known-options.ts';
import { memoryTokenStore } from '../tokens/memory-token-store.ts';
import type { TokenStore } from '../tokens/token-store.ts';
import { DEFAULTS, type OidcProviderOptions, type OidcSessionsOptions } from './session-options.ts';

/** {@link OidcSessionsOptions} validated, with every default applied. */
export interface SessionSettings {
  readonly providers: ReadonlyMap<string, OidcProviderOptions>;
  readonly redirectUri: URL;
  readonly secret: string | Uint8Array;
  readonly store: TokenStore;
  readonly refreshSkewMs: number;
  readonly cookieName: string;
  readonly trustProxy: boolean;
  readonly sessionTtlMs: number;
  readonly maxConnectionAgeMs: number | undefined;
  readonly logoutCheckIntervalMs: number;
  readonly loginTimeoutSeconds: number;
  readonly logger: Pick<Console, 'warn' | 'error'>;
  readonly now: () => number;
}

const AT = 'oidcSessions';
const PROVIDER_OPTIONS = ['issuer', 'clientId', 'clientSecret', 'scopes', 'loginParams', 'forward', 'issuerCa'] as const;
const SESSION_OPTIONS = ['providers', 'redirectUri', 'secret', 'tokenStore', 'refreshSkewMs', 'refreshSkew', 'cookieName', 'trustProxy', 'sessionTtlMs', 'maxConnectionAgeMs', 'logoutCheckIntervalMs', 'loginTimeoutSeconds', 'logger', 'now'] as const;
const DURATIONS = ['refreshSkewMs', 'refreshSkew', 'sessionTtlMs', 'maxConnectionAgeMs', 'logoutCheckIntervalMs', 'loginTimeoutSeconds'] as const;

function validateProvider(provider: OidcProviderOptions, at: string): void {
  if (typeof provider !== 'object' || provider === null) throw new InvalidOptionError(`${at} must be an object`);
  if (!isHttpUrl(provider.issuer)) throw new InvalidOptionError(`${at}.issuer must be an http(s) URL; got ${JSON.stringify(provider.issuer)}`);
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
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError(`${AT}: options are required`);
  checkKnownOptions(options, [...PROVIDER_OPTIONS, ...SESSION_OPTIONS], AT);
  validateProvider(options, AT);
  for (const [name, provider] of Object.entries(options.providers ?? {})) {
    checkKnownOptions(provider, [...PROVIDER_OPTIONS], `${AT}.providers.${name}`);
    if (name === 'default' || !/^[A-Za-z0-9._-]+$/.test(name)) throw new InvalidOptionError(`${AT}.providers: ${JSON.stringify(name)} is not a usable provider name`);
    validateProvider(provider, `${AT}.providers.${name}`);
  }
  if (!isHttpUrl(options.redirectUri)) throw new InvalidOptionError(`${AT}.redirectUri must be an http(s) URL; got ${JSON.stringify(options.redirectUri)}`);
  const secretLength = typeof options.secret === 'string' ? options.secret.length : options.secret instanceof Uint8Array ? options.secret.byteLength : 0;
  if (secretLength < 32) throw new InvalidOptionError(`${AT}.secret must be at least 32 characters (or bytes), the same on every replica`);
  if (options.tokenStore !== undefined && !isTokenStore(options.tokenStore)) throw new InvalidOptionError(`${AT}.tokenStore must implement get, set and delete`);
  for (const key of DURATIONS) {
    const value = options[key];
    if (value !== undefined && !(typeof value === 'number' && value >= 0 && Number.isFinite(value))) {
      throw new InvalidOptionError(`${AT}.${key} must be a non-negative number`);
    }
  }
  if (options.refreshSkew !== undefined && options.refreshSkewMs !== undefined) {
    throw new InvalidOptionError(`${AT}: refreshSkew and refreshSkewMs are both given; refreshSkew is the deprecated name of refreshSkewMs: keep refreshSkewMs only`);
  }
  if (options.cookieName !== undefined && !isHttpToken(options.cookieName)) {
    throw new InvalidOptionError(`${AT}.cookieName ${JSON.stringify(options.cookieName)} is not a valid cookie name`);
  }
}

/**
 * Validates the options once, at construction, and applies the defaults; warns (on the options'
 * logger) about what works but should not be left so.
 * @throws {InvalidOptionError} naming the option.
 */
export function sessionSettings(options: OidcSessionsOptions): SessionSettings {
  validate(options);
  const logger = options.logger ?? console;
  if (!options.tokenStore && process.env.NODE_ENV === 'production') {
    logger.warn('kube-cluster-proxy: oidcSessions keeps sessions in memory: a restart logs everyone out, and other replicas do not see them; pass a shared tokenStore (redisTokenStore)');
  }
  if (options.refreshSkew !== undefined) {
    logger.warn('kube-cluster-proxy: the oidcSessions option refreshSkew is deprecated: rename it to refreshSkewMs (same value, in ms)');
  }
  return {
    providers: new Map(Object.entries({ default: options, ...options.providers })),
    redirectUri: new URL(options.redirectUri),
    secret: options.secret,
    store: options.tokenStore ?? memoryTokenStore(),
    refreshSkewMs: options.refreshSkewMs ?? options.refreshSkew ?? DEFAULTS.refreshSkewMs,
    cookieName: options.cookieName ?? DEFAULTS.cookieName,
    trustProxy: options.trustProxy ?? DEFAULTS.trustProxy,
    sessionTtlMs: options.sessionTtlMs ?? DEFAULTS.sessionTtlMs,
    maxConnectionAgeMs: options.maxConnectionAgeMs,
    logoutCheckIntervalMs: options.logoutCheckIntervalMs ?? DEFAULTS.logoutCheckIntervalMs,
    loginTimeoutSeconds: options.loginTimeoutSeconds ?? DEFAULTS.loginTimeoutSeconds,
    logger,
    now: options.now ?? Date.now,
  };
}
