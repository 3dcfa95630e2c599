import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { ImpersonationConfig, ValidatedCluster } from '../clusters/cluster-config.ts';
import { hasControlCharacter, isHttpUrl } from '../checks.ts';
import { CredentialsUnavailableError, UnauthenticatedError } from '../errors.ts';
import { describeIssuerError } from './issuer-client.ts';
import { discoverIssuer } from './issuer-discovery.ts';
import { createIssuerFetch, ISSUER_REQUEST_DEFAULTS, type IssuerRequestOptions } from './issuer-fetch.ts';

/** Who the proxy impersonates for a verified user token. */
export interface VerifiedUser {
  user: string;
  groups: string[];
}

/** The issuer's keys could not be had: the issuer's fault, not the token's (503, not 401). */
class KeysUnavailableError extends Error {}

/** Errors of the key lookup that are about the token (its `alg` or `kid`), not about the issuer. */
const isTokenKeyError = (error: unknown) =>
  error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys || error instanceof errors.JOSENotSupported;

/**
 * Verifies users' OIDC tokens for `authMode: 'impersonate'` the way kube-apiserver's OIDC
 * authenticator would (signature against the issuer's JWKS, `iss`, `aud`, `exp`, `nbf`), and maps
 * their claims to the identity to impersonate. The JWKS URI comes from the shared discovery; the
 * key set is cached and refreshed by jose when a token names an unknown key. Requests to the issuer
 * are bounded by `options` (timeout, body size).
 */
export function createUserTokenVerifier(cluster: ValidatedCluster, config: ImpersonationConfig, options: IssuerRequestOptions = {}) {
  const issuerFetch = createIssuerFetch(config.issuerCa, options);
  const get = async (url: string, init?: { headers?: Headers; signal?: AbortSignal }) => {
    const response = await issuerFetch(url, {
      method: 'GET',
      headers: Object.fromEntries(init?.headers ?? []),
      body: undefined,
      redirect: 'manual',
      ...(init?.signal ? { signal: init.signal } : {}),
    });
    if (response.status !== 200) throw new Error(`the key set ${url} answered HTTP ${response.status}`);
    return response;
  };
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const usernameClaim = config.usernameClaim ?? 'sub';
  const groupsClaim = config.groupsClaim ?? 'groups';
  const unavailable = (error: unknown) =>
    new CredentialsUnavailableError(`cluster "${cluster.name}": the signing keys of ${config.issuer} could not be fetched: ${describeIssuerError(error)}`, { cluster: cluster.name, cause: error, });

  function keySet(): Promise<JWTVerifyGetKey> {
    keys ??= discoverIssuer({ issuer: config.issuer, ca: config.issuerCa }, options)
      .then((metadata) => {
        if (!isHttpUrl(metadata.jwks_uri)) throw new Error(`the discovery document of ${config.issuer} names no http(s) jwks_uri`);
        const remote = createRemoteJWKSet(new URL(metadata.jwks_uri), {
          [customFetch]: get,
          timeoutDuration: options.timeoutMs ?? ISSUER_REQUEST_DEFAULTS.timeoutMs,
        });
        const getKey: JWTVerifyGetKey = async (header, token) => {
          try {
            return await remote(header, token);
          } catch (error) {
            if (isTokenKeyError(error)) throw error;
            throw new KeysUnavailableError('the key set could not be fetched', { cause: error });
          }
        };
        return getKey;
      })
      .catch((error: unknown) => {
        keys = undefined;
        throw error;
      });
    return keys;
  }

  return {
    /**
     * @throws {UnauthenticatedError} for a token that is not valid (401, the cluster is not contacted).
     * @throws {CredentialsUnavailableError} when the issuer or its keys cannot be had in time (503).
     */
    async verify(token: string): Promise<VerifiedUser> {
      let jwks;
      try {
        jwks = await keySet();
      } catch (error) {
        throw unavailable(error);
      }
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, jwks, {
          issuer: config.issuer,
          audience: config.audience as string | string[],
          clockTolerance: config.clockToleranceSeconds ?? 30,
        }));
      } catch (error) {
        if (error instanceof KeysUnavailableError) throw unavailable(error.cause);
        if (error instanceof errors.JOSEError || error instanceof TypeError) {
          const why = error instanceof errors.JWTExpired ? 'it has expired' : error instanceof errors.JWTClaimValidationFailed ? `its ${error.claim} claim is not accepted` : 'it is not a valid token from the issuer';
          throw new UnauthenticatedError(`cluster "${cluster.name}": your token was refused (${why}): log in again`, { cluster: cluster.name });
        }
        throw unavailable(error);
      }
      const name = payload[usernameClaim];
      if (typeof name !== 'string' || name === '') {
        throw new UnauthenticatedError(`cluster "${cluster.name}": your token has no "${usernameClaim}" claim to name you`, { cluster: cluster.name });
      }
      const rawGroups = payload[groupsClaim];
      const groups = (typeof rawGroups === 'string' ? [rawGroups] : Array.isArray(rawGroups) ? rawGroups : []).filter((g): g is string => typeof g === 'string' && g !== '');
      const user = (config.usernamePrefix ?? '') + name;
      const prefixed = groups.map((g) => (config.groupsPrefix ?? '') + g);
      if (hasControlCharacter(user) || prefixed.some(hasControlCharacter)) {
        throw new UnauthenticatedError(`cluster "${cluster.name}": your token's "${usernameClaim}" or "${groupsClaim}" claim holds control characters`, { cluster: cluster.name });
      }
      return { user, groups: prefixed };
    },
  };
}

export type UserTokenVerifier = ReturnType<typeof createUserTokenVerifier>;
