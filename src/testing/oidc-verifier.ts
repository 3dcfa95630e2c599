import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { rootCertificates } from 'node:tls';
import { createLocalJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

/**
 * OIDC id tokens the fake accepts, as kube-apiserver's `--oidc-*` flags configure them.
 */
export interface FakeOidcOptions {
  /** `--oidc-issuer-url`: the `iss` of accepted tokens, whose discovery document names the signing keys (`jwks_uri`). */
  issuerUrl: string;
  /** `--oidc-client-id`: the `aud` that accepted tokens carry. */
  clientId: string;
  /** `--oidc-username-claim`: the claim holding the user name. Default `'sub'`. */
  usernameClaim?: string;
  /**
   * `--oidc-username-prefix`, put before the user name. Default: none (kube-apiserver's default is
   * `<issuerUrl>#` for claims other than `email`; tests read better without it).
   */
  usernamePrefix?: string;
  /** `--oidc-groups-claim`: the claim holding the groups (a string or an array of strings). Default: no groups. */
  groupsClaim?: string;
  /** `--oidc-ca-file`: PEM CA trusted for the issuer, besides Node's roots. */
  ca?: string | Buffer;
}

/** A user name and groups read from a verified id token. */
export interface OidcUser {
  readonly username: string;
  readonly groups: readonly string[];
}

const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]+$/;

function getJson(url: string, ca: readonly string[] | undefined): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const callback = (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        if (res.statusCode !== 200) {
          reject(new Error(`GET ${url}: ${res.statusCode ?? 0}`));
          return;
        }
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (error) {
          reject(new Error(`GET ${url}: not JSON`, { cause: error }));
        }
      });
    };
    const req = url.startsWith('https:') ? httpsGet(url, ca ? { ca: [...ca] } : {}, callback) : httpGet(url, callback);
    req.on('error', reject);
  });
}

/**
 * Verifies id tokens like kube-apiserver's OIDC authenticator: signature against the issuer's
 * JWKS (fetched on first use, fetched again for an unknown key id), `iss`, `aud` and `exp`.
 */
export class OidcVerifier {
  readonly #options: FakeOidcOptions;
  readonly #ca: readonly string[] | undefined;
  #keys: Promise<JWTVerifyGetKey> | undefined;

  constructor(options: FakeOidcOptions) {
    this.#options = options;
    this.#ca = options.ca === undefined ? undefined : [...rootCertificates, options.ca.toString()];
  }

  #loadKeys(): Promise<JWTVerifyGetKey> {
    if (this.#keys) return this.#keys;
    const loading = (async () => {
      const discovery = (await getJson(`${this.#options.issuerUrl.replace(/\/$/, '')}/.well-known/openid-configuration`, this.#ca)) as { jwks_uri?: unknown };
      if (typeof discovery.jwks_uri !== 'string') throw new Error(`${this.#options.issuerUrl}: the discovery document has no jwks_uri`);
      return createLocalJWKSet((await getJson(discovery.jwks_uri, this.#ca)) as Parameters<typeof createLocalJWKSet>[0]);
    })();
    this.#keys = loading;
    // A failed fetch is retried by the next token rather than remembered.
    loading.catch(() => {
      if (this.#keys === loading) this.#keys = undefined;
    });
    return loading;
  }

  async #verify(token: string): Promise<JWTPayload> {
    const verifyOptions = { issuer: this.#options.issuerUrl, audience: this.#options.clientId };
    try {
      return (await jwtVerify(token, await this.#loadKeys(), verifyOptions)).payload;
    } catch (error) {
      // The issuer rotated its keys since they were fetched.
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      this.#keys = undefined;
      return (await jwtVerify(token, await this.#loadKeys(), verifyOptions)).payload;
    }
  }

  /** The user of a valid id token; `undefined` for anything else (not a JWT, bad signature, expired, another audience). */
  async verify(token: string): Promise<OidcUser | undefined> {
    if (!JWT_SHAPE.test(token)) return undefined;
    let payload: JWTPayload;
    try {
      payload = await this.#verify(token);
    } catch {
      return undefined;
    }
    const username = payload[this.#options.usernameClaim ?? 'sub'];
    if (typeof username !== 'string' || username === '') return undefined;
    const claimed = this.#options.groupsClaim === undefined ? undefined : payload[this.#options.groupsClaim];
    const groups = typeof claimed === 'string' ? [claimed] : Array.isArray(claimed) ? claimed.filter((g): g is string => typeof g === 'string') : [];
    return { username: `${this.#options.usernamePrefix ?? ''}${username}`, groups };
  }
}
