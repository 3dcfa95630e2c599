import type { TokenStore } from '../tokens/token-store.ts';

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

/** Options of `oidcSessions()`: the default provider's settings, and how sessions behave. */
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
  refreshSkewMs?: number;
  /**
   * @deprecated The old name of {@link OidcSessionsOptions.refreshSkewMs} (same meaning, in ms), kept for one minor
   * version: a warning is logged when it is used, and giving both is an error.
   */
  refreshSkew?: number;
  /** Session cookie name. Default `'cluster-session'`. */
  cookieName?: string;
  /** Trust `X-Forwarded-Proto: https` from a TLS-terminating proxy for the cookie's `Secure`. Default `false`. */
  trustProxy?: boolean;
  /** How long a session lives at most, in ms, whatever its refreshes. Default `12 * 3600_000` (12 h). */
  sessionTtlMs?: number;
  /** Longest life of a connection tied to a session (exec, followed logs, watches; upgraded or HTTP), in ms. Default: no limit. */
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

/** The defaults of {@link OidcSessionsOptions}, in one place. */
export const DEFAULTS = {
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  refreshSkewMs: 60_000,
  cookieName: 'cluster-session',
  forward: 'id_token',
  trustProxy: false,
  sessionTtlMs: 12 * 3600_000,
  logoutCheckIntervalMs: 500,
  loginTimeoutSeconds: 600,
} as const satisfies Partial<OidcSessionsOptions>;
