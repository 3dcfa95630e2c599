import { isHttpUrl } from '../checks.ts';
import { InvalidOptionError } from '../errors.ts';
import { checkKnownOptions } from '../known-options.ts';
import { checkPem } from './pem-option.ts';

/** Verification of user tokens and claim mapping for `authMode: 'impersonate'`. */
export interface ImpersonationConfig {
  /** The OIDC issuer: `iss` must match; its JWKS (from discovery) is fetched and cached. Required. */
  issuer: string;
  /** The `aud` the tokens must carry (your client id). Required. */
  audience: string | readonly string[];
  /** The claim that names the user. Default `'sub'`. */
  usernameClaim?: string;
  /** Put before the user name, e.g. `'oidc:'`. Default `''`. */
  usernamePrefix?: string;
  /** The claim with the groups (a string or an array of strings). Default `'groups'`. */
  groupsClaim?: string;
  /** Put before each group. Default `''`. */
  groupsPrefix?: string;
  /** PEM CA for the issuer's TLS, besides Node's roots. */
  issuerCa?: string | Buffer;
  /** Tolerated clock skew for `exp`/`nbf`, in seconds. Default `30`. */
  clockToleranceSeconds?: number;
}

/** An identity to impersonate. */
export interface Impersonation {
  user?: string;
  groups?: readonly string[];
  uid?: string;
  extra?: Readonly<Record<string, readonly string[]>>;
}

/**
 * Checks `impersonation`, which `authMode: 'impersonate'` requires.
 * @throws {InvalidOptionError} naming the field and the rule it breaks.
 */
export function validateImpersonation(config: unknown, where: string): ImpersonationConfig {
  const at = `${where}.impersonation`;
  if (typeof config !== 'object' || config === null) {
    throw new InvalidOptionError(`${at} is required by authMode 'impersonate': { issuer, audience, usernameClaim?, groupsClaim?, ... }`);
  }
  const c = config as Record<string, unknown>;
  checkKnownOptions(
    config as ImpersonationConfig,
    ['issuer', 'audience', 'usernameClaim', 'usernamePrefix', 'groupsClaim', 'groupsPrefix', 'issuerCa', 'clockToleranceSeconds'],
    at,
  );
  if (!isHttpUrl(c.issuer)) {
    throw new InvalidOptionError(`${at}.issuer must be an http(s) URL; got ${JSON.stringify(c.issuer)}`);
  }
  const audience = c.audience;
  if (!(typeof audience === 'string' && audience !== '') && !(Array.isArray(audience) && audience.length > 0 && audience.every((a) => typeof a === 'string' && a !== ''))) {
    throw new InvalidOptionError(`${at}.audience must be a non-empty string or array of strings (your client id)`);
  }
  for (const key of ['usernameClaim', 'usernamePrefix', 'groupsClaim', 'groupsPrefix'] as const) {
    if (c[key] !== undefined && typeof c[key] !== 'string') throw new InvalidOptionError(`${at}.${key} must be a string`);
  }
  if (c.issuerCa !== undefined) checkPem(c.issuerCa, `${at}.issuerCa`);
  if (c.clockToleranceSeconds !== undefined && !(typeof c.clockToleranceSeconds === 'number' && c.clockToleranceSeconds >= 0)) {
    throw new InvalidOptionError(`${at}.clockToleranceSeconds must be a non-negative number`);
  }
  return config as ImpersonationConfig;
}

const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** The `Impersonate-*` headers for an identity, as client-go builds them. */
export function impersonationHeaders(impersonate: Impersonation, where: string): Record<string, string | string[]> {
  const at = `${where}.impersonate`;
  if (typeof impersonate !== 'object' || impersonate === null) throw new InvalidOptionError(`${at} must be an object`);
  checkKnownOptions(impersonate, ['user', 'groups', 'uid', 'extra'], at);
  const text = (value: unknown, name: string): string => {
    if (typeof value !== 'string' || value === '' || !HEADER_VALUE.test(value)) {
      throw new InvalidOptionError(`${at}.${name} must be a non-empty string that fits in a header`);
    }
    return value;
  };
  const headers: Record<string, string | string[]> = {};
  const { user, groups, uid, extra } = impersonate;
  if (user !== undefined) headers['impersonate-user'] = text(user, 'user');
  if (groups !== undefined) {
    if (!Array.isArray(groups)) throw new InvalidOptionError(`${at}.groups must be an array of strings`);
    if (groups.length > 0) headers['impersonate-group'] = groups.map((g, i) => text(g, `groups[${i}]`));
  }
  if (uid !== undefined) headers['impersonate-uid'] = text(uid, 'uid');
  for (const [key, values] of Object.entries(extra ?? {})) {
    // eslint-disable-next-line no-control-regex -- a key becomes part of a header name
    if (key === '' || /[\s\x00-\x1f\x7f]/.test(key)) {
      throw new InvalidOptionError(`${at}.extra key ${JSON.stringify(key)} is not valid`);
    }
    if (!Array.isArray(values)) throw new InvalidOptionError(`${at}.extra.${key} must be an array of strings`);
    // Keys are percent-encoded in the header name, as client-go does.
    headers[`impersonate-extra-${encodeURIComponent(key).toLowerCase()}`] = values.map((v, i) => text(v, `extra.${key}[${i}]`));
  }
  if (Object.keys(headers).length > 0 && headers['impersonate-user'] === undefined && headers['impersonate-uid'] === undefined) {
    throw new InvalidOptionError(`${at} needs a user: the API server refuses groups or extra without a user to impersonate`);
  }
  return headers;
}
