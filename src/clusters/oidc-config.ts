import { isHttpUrl } from '../checks.ts';
import { InvalidOptionError } from '../errors.ts';
import { checkKnownOptions } from '../known-options.ts';
import { checkPem } from './pem-option.ts';

/** kubectl's OIDC auth-provider configuration (`auth-provider: { name: oidc, config: ... }`). */
export interface OidcAuthProviderConfig {
  /** `idp-issuer-url`: the issuer, whose discovery document names the token endpoint. */
  issuerUrl: string;
  /** `client-id`. */
  clientId: string;
  /** `client-secret`, for confidential clients. */
  clientSecret?: string;
  /** `id-token`: used while it is valid for more than 10 s. */
  idToken?: string;
  /** `refresh-token`: exchanged for a new id-token when the id-token is missing or expiring. */
  refreshToken?: string;
  /** `idp-certificate-authority(-data)`: PEM CA for the TLS connection to the issuer. Default: Node's roots. */
  issuerCa?: string | Buffer;
}

/**
 * Checks `credentials.oidc`.
 * @throws {InvalidOptionError} naming the field (and its kubeconfig name) and the rule it breaks.
 */
export function validateOidc(oidc: unknown, where: string): OidcAuthProviderConfig {
  const at = `${where}.credentials.oidc`;
  if (typeof oidc !== 'object' || oidc === null) throw new InvalidOptionError(`${at} must be an object`);
  const o = oidc as Record<string, unknown>;
  checkKnownOptions(oidc as OidcAuthProviderConfig, ['issuerUrl', 'clientId', 'clientSecret', 'idToken', 'refreshToken', 'issuerCa'], at);
  if (!isHttpUrl(o.issuerUrl)) {
    throw new InvalidOptionError(`${at}.issuerUrl (idp-issuer-url) must be an http(s) URL; got ${JSON.stringify(o.issuerUrl)}`);
  }
  if (typeof o.clientId !== 'string' || o.clientId === '') throw new InvalidOptionError(`${at}.clientId (client-id) must be a non-empty string`);
  for (const key of ['clientSecret', 'idToken', 'refreshToken'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'string') throw new InvalidOptionError(`${at}.${key} must be a string`);
  }
  if (o.issuerCa !== undefined) checkPem(o.issuerCa, `${at}.issuerCa`);
  return oidc as OidcAuthProviderConfig;
}
