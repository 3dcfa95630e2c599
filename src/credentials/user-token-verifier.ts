import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload } from 'jose';
import type { ImpersonationConfig, ValidatedCluster } from '../clusters/cluster-config.ts';
import { hasControlCharacter } from '../checks.ts';
import { CredentialsUnavailableError, UnauthenticatedError } from '../errors.ts';
import { describeError } from './cluster-credentials.ts';
import { createIssuerFetch } from './oidc-fetch.ts';

/** Who the proxy impersonates for a verified user token. */
export interface VerifiedUser {
  user: string;
  groups: string[];
}

/**
 * Verifies users' OIDC tokens for `authMode: 'impersonate'` the way kube-apiserver's OIDC
 * authenticator would (signature against the issuer's JWKS, `iss`, `aud`, `exp`, `nbf`), and maps
 * their claims to the identity to impersonate. The JWKS is discovered once, cached and refreshed
 * by jose when a token names an unknown key.
 */
export function createUserTokenVerifier(cluster: ValidatedCluster, config: ImpersonationConfig) {
  const issuerFetch = createIssuerFetch(config.issuerCa);
  const get = (url: string, options?: { headers?: Headers; signal?: AbortSignal }) =>
    issuerFetch(url, {
      method: 'GET',
      headers: Object.fromEntries(options?.headers ?? []),
      body: undefined,
      redirect: 'manual',
      ...(options?.signal ? { signal: options.signal } : {}),
    });
  let keys: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  const usernameClaim = config.usernameClaim ?? 'sub';
  const groupsClaim = config.groupsClaim ?? 'groups';

  function keySet(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    keys ??= (async () => {
      const discovery = new URL(`${config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
      const response = await get(discovery.href);
      if (!response.ok) throw new Error(`discovery answered HTTP ${response.status}`);
      const { jwks_uri: jwksUri } = (await response.json()) as { jwks_uri?: unknown };
      if (typeof jwksUri !== 'string') throw new Error('the discovery document has no jwks_uri');
      return createRemoteJWKSet(new URL(jwksUri), { [customFetch]: (url, options) => get(url, options) });
    })().catch((error: unknown) => {
      keys = undefined;
      throw error;
    });
    return keys;
  }

  return {
    /**
     * @throws {UnauthenticatedError} for a token that is not valid (401, the cluster is not contacted).
     * @throws {CredentialsUnavailableError} when the issuer's keys cannot be fetched (503).
     */
    async verify(token: string): Promise<VerifiedUser> {
      let jwks;
      try {
        jwks = await keySet();
      } catch (error) {
        throw new CredentialsUnavailableError(cluster.name, `cluster "${cluster.name}": the signing keys of ${config.issuer} could not be fetched: ${describeError(error)}`, {
          cause: error,
          headers: { 'retry-after': '5' },
        });
      }
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, jwks, {
          issuer: config.issuer,
          audience: config.audience as string | string[],
          clockTolerance: config.clockToleranceSeconds ?? 30,
        }));
      } catch (error) {
        if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JOSEError || error instanceof TypeError) {
          const why = error instanceof errors.JWTExpired ? 'it has expired' : error instanceof errors.JWTClaimValidationFailed ? `its ${error.claim} claim is not accepted` : 'it is not a valid token from the issuer';
          throw new UnauthenticatedError(`cluster "${cluster.name}": your token was refused (${why}): log in again`, { cluster: cluster.name });
        }
        throw new CredentialsUnavailableError(cluster.name, `cluster "${cluster.name}": the signing keys of ${config.issuer} could not be fetched: ${describeError(error)}`, { cause: error });
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
