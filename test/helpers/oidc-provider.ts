import { createServer } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { closeServer, listen } from './servers.ts';

/** Options of {@link startOidcProvider}. */
export interface OidcProviderOptions {
  /** The one client's id. Default `'kube-dashboard'`. */
  clientId?: string;
  /** The client's secret (`client_secret_basic`). Default `'dashboard-secret'`. */
  clientSecret?: string;
  /** Lifetime of id tokens, in seconds; see {@link OidcProvider.idTokenTtl}. Default 300. */
  idTokenTtl?: number;
  /**
   * Redirect URIs of the client, besides the one {@link OidcProvider.login} uses. Browser logins
   * through a dashboard need the dashboard's callback here.
   */
  redirectUris?: string[];
  /** Groups of users, put in the `groups` claim of their id tokens. Default: none. */
  groups?: Record<string, string[]>;
}

/** The tokens of a completed login. */
export interface OidcLogin {
  idToken: string;
  refreshToken: string;
}

/** The answer of the token endpoint to a refresh grant: the tokens, or the OAuth error. */
export type RefreshOutcome = { ok: true; idToken: string; refreshToken: string | undefined } | { ok: false; status: number; error: string };

/** A real OpenID provider on loopback HTTP; see {@link startOidcProvider}. */
export interface OidcProvider {
  /** `http://127.0.0.1:<port>`: the issuer and the base of its endpoints. */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The redirect URI that {@link OidcProvider.login} uses; never served. */
  readonly redirectUri: string;
  /** Lifetime of the id tokens issued from now on, in seconds; tests change it between steps. */
  idTokenTtl: number;
  /** Refresh grants received at the token endpoint, failed ones included. */
  readonly refreshGrants: number;
  /**
   * Logs `user` in without a browser: drives the authorization-code flow through the provider's
   * login and consent forms, then redeems the code. Scopes `openid offline_access groups`.
   */
  login(user: string): Promise<OidcLogin>;
  /** Sends a refresh grant as the client, e.g. to show that a rotated-away token is refused. */
  refresh(refreshToken: string): Promise<RefreshOutcome>;
  /**
   * Signs an id token with the provider's own key, for tokens a login cannot produce (already
   * expired, another audience). Defaults: `iss` the issuer, `aud` the client, `iat` now, `exp` now
   * plus {@link OidcProvider.idTokenTtl}; `claims` override them.
   */
  sign(claims: JWTPayload): Promise<string>;
  /** Revokes a refresh token: its next grant fails with `invalid_grant`. */
  revoke(refreshToken: string): Promise<void>;
  close(): Promise<void>;
}

/** Cookies by name, sent back on every request: the provider scopes them by path, we need not. */
class CookieJar {
  readonly #cookies = new Map<string, string>();

  take(response: Response): void {
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const separator = pair.indexOf('=');
      this.#cookies.set(pair.slice(0, separator), pair.slice(separator + 1));
    }
  }

  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/**
 * Starts `oidc-provider` on 127.0.0.1 with one confidential client (authorization code and
 * refresh token grants), refresh-token rotation on, and its development login forms, which accept
 * any user name and password.
 */
export async function startOidcProvider(options: OidcProviderOptions = {}): Promise<OidcProvider> {
  const clientId = options.clientId ?? 'kube-dashboard';
  const clientSecret = options.clientSecret ?? 'dashboard-secret';
  const groups = options.groups ?? {};
  const server = createServer();
  const issuer = await listen(server);
  const redirectUri = `${issuer}/callback`;
  let idTokenTtl = options.idTokenTtl ?? 300;
  let refreshGrants = 0;

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = 'test-key';
  const configuration: Configuration = {
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' }] },
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [redirectUri, ...(options.redirectUris ?? [])],
      },
    ],
    claims: { openid: ['sub'], groups: ['groups'] },
    // Scope claims in the id token itself, as issuers configured for Kubernetes do.
    conformIdTokenClaims: false,
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub, groups: groups[sub] ?? [] }),
    }),
    rotateRefreshToken: true,
    ttl: { IdToken: () => idTokenTtl, RefreshToken: 3600, AccessToken: 3600, Grant: 3600, Session: 3600, Interaction: 600 },
  };
  const provider = new Provider(issuer, configuration);
  provider.use(async (ctx: KoaContextWithOIDC, next) => {
    await next();
    if (ctx.oidc?.route === 'token' && ctx.oidc.params?.grant_type === 'refresh_token') refreshGrants++;
  });
  server.on('request', provider.callback());

  const clientAuthorization = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;

  async function tokenRequest(body: Record<string, string>): Promise<Response> {
    return fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { authorization: clientAuthorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body),
    });
  }

  async function login(user: string): Promise<OidcLogin> {
    const jar = new CookieJar();
    const visit = async (url: string, form?: Record<string, string>): Promise<string> => {
      const response = await fetch(new URL(url, issuer), {
        method: form ? 'POST' : 'GET',
        redirect: 'manual',
        headers: { cookie: jar.header(), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        ...(form ? { body: new URLSearchParams(form) } : {}),
      });
      jar.take(response);
      await response.body?.cancel();
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) {
        throw new Error(`OIDC login of ${user}: ${form ? 'POST' : 'GET'} ${url} answered ${response.status} without a redirect`);
      }
      return new URL(location, issuer).href;
    };
    const authorize = new URL('/auth', issuer);
    authorize.search = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      // offline_access (a refresh token) is only granted with an explicit consent prompt.
      scope: 'openid offline_access groups',
      prompt: 'consent',
    }).toString();

    // /auth -> login form -> /auth/<uid> -> consent form -> /auth/<uid> -> redirect_uri?code=
    let location = await visit(authorize.href);
    for (const prompt of ['login', 'consent']) {
      location = await visit(location, { prompt, login: user, password: 'any' });
      location = await visit(location);
    }
    const code = new URL(location).searchParams.get('code');
    if (!location.startsWith(redirectUri) || !code) throw new Error(`OIDC login of ${user} ended at ${location}`);

    const response = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri });
    const tokens = (await response.json()) as { id_token?: string; refresh_token?: string };
    if (!tokens.id_token || !tokens.refresh_token) throw new Error(`OIDC login of ${user}: the token endpoint answered ${response.status} without both tokens`);
    return { idToken: tokens.id_token, refreshToken: tokens.refresh_token };
  }

  return {
    issuer,
    clientId,
    clientSecret,
    redirectUri,
    get idTokenTtl() {
      return idTokenTtl;
    },
    set idTokenTtl(seconds: number) {
      idTokenTtl = seconds;
    },
    get refreshGrants() {
      return refreshGrants;
    },
    login,
    async refresh(refreshToken) {
      const response = await tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken });
      const body = (await response.json()) as { id_token?: string; refresh_token?: string; error?: string };
      return response.ok && body.id_token
        ? { ok: true, idToken: body.id_token, refreshToken: body.refresh_token }
        : { ok: false, status: response.status, error: body.error ?? 'no id_token' };
    },
    sign(claims) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: issuer, aud: clientId, iat: now, exp: now + idTokenTtl, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid })
        .sign(privateKey);
    },
    async revoke(refreshToken) {
      const token = await provider.RefreshToken.find(refreshToken);
      await token?.destroy();
    },
    close: () => closeServer(server),
  };
}
