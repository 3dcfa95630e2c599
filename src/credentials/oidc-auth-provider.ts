import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import type { OidcAuthProviderConfig, ValidatedCluster } from '../clusters/cluster-config.ts';
import { ClusterProxyError, CredentialsUnavailableError, UnauthenticatedError } from '../errors.ts';
import { createIssuerClient, describeIssuerError, isInvalidGrant } from '../oidc/issuer-client.ts';
import { describeError } from '../redact.ts';
import { createRefreshOnce } from '../tokens/refresh-once.ts';
import { reportedFetch, type CredentialDependencies, type CredentialSource } from './credential-source.ts';

/** client-go refreshes an id-token this close to its `exp`, so that it never expires in flight. */
const EXPIRY_MARGIN_MS = 10_000;

/** When the id-token stops being usable (`exp` minus the margin), in ms; `undefined` if it is not a JWT with an `exp`. */
function usableUntil(idToken: string): number | undefined {
  try {
    const { exp } = decodeJwt(idToken);
    return typeof exp === 'number' ? exp * 1000 - EXPIRY_MARGIN_MS : undefined;
  } catch {
    return undefined;
  }
}

/**
 * kubectl's OIDC auth-provider: sends the id-token while its `exp` is more than 10 s away,
 * otherwise exchanges the refresh-token for a new one at the issuer's token endpoint (discovered
 * from `<issuer>/.well-known/openid-configuration`). The refreshed id-token lives in the token
 * store under `cluster:<name>:oidc:id-token` until 10 s before its `exp`, a rotated refresh-token
 * under `cluster:<name>:oidc:refresh-token`; one refresh at a time per cluster, across the
 * replicas sharing the store when it has `tryLock`.
 *
 * Failures: no usable id-token and nothing to refresh it with, or a refresh-token the issuer
 * refuses (`invalid_grant`): `401`, the user must log in again. The issuer unreachable or failing:
 * `503` naming it.
 */
export function createOidcCredentialSource(
  cluster: ValidatedCluster,
  config: OidcAuthProviderConfig,
  deps: CredentialDependencies,
): CredentialSource {
  const name = cluster.name;
  const issuer = config.issuerUrl;
  const idTokenKey = `cluster:${name}:oidc:id-token`;
  const refreshTokenKey = `cluster:${name}:oidc:refresh-token`;
  const store = deps.tokenStore;
  const refreshOnce = createRefreshOnce(store);
  const issuerClient = createIssuerClient({ issuer, clientId: config.clientId, clientSecret: config.clientSecret, ca: config.issuerCa });
  const loginAgain =
    'log in again (for example with kubectl oidc-login)' +
    (cluster.authMode === 'user-then-cluster' ? ' or send your own bearer token' : '');
  // The kubeconfig's own tokens never change: once refused, they are not tried again (the
  // refresh-token's refusal is repeated without asking the issuer).
  let configIdToken = config.idToken === undefined ? undefined : { token: config.idToken, until: usableUntil(config.idToken) ?? -Infinity };
  let configRefreshTokenRefusal: string | undefined;

  function discover(): Promise<client.Configuration> {
    return issuerClient.configuration().catch((error: unknown) => {
      throw new CredentialsUnavailableError(`cluster "${name}": the OIDC issuer ${issuer} could not be discovered: ${describeIssuerError(error)}`, { cluster: name, cause: error });
    });
  }

  async function refresh(): Promise<string> {
    const stored = await store.get(refreshTokenKey);
    if (stored === undefined && configRefreshTokenRefusal !== undefined) throw new UnauthenticatedError(configRefreshTokenRefusal, { cluster: name });
    const refreshToken = stored ?? config.refreshToken;
    if (refreshToken === undefined || refreshToken === '') {
      throw new UnauthenticatedError(
        `cluster "${name}": No valid id-token, and cannot refresh without refresh-token: ` +
          `the kubeconfig user has no valid id-token and no refresh-token; ${loginAgain}`,
        { cluster: name },
      );
    }
    const configuration = await discover();
    let tokens: client.TokenEndpointResponse;
    try {
      tokens = await client.refreshTokenGrant(configuration, refreshToken);
    } catch (error) {
      if (isInvalidGrant(error)) {
        const refusal = `cluster "${name}": the OIDC issuer ${issuer} refused the refresh-token (invalid_grant: it expired or was revoked); ${loginAgain}`;
        if (stored === undefined) configRefreshTokenRefusal = refusal;
        else await store.delete(refreshTokenKey);
        throw new UnauthenticatedError(refusal, { cluster: name });
      }
      throw new CredentialsUnavailableError(`cluster "${name}": refreshing the id-token at the OIDC issuer ${issuer} failed: ${describeIssuerError(error)}`, { cluster: name, cause: error });
    }
    const idToken = tokens.id_token;
    if (idToken === undefined) {
      throw new CredentialsUnavailableError(`cluster "${name}": the OIDC issuer ${issuer} answered the refresh without an id_token`, { cluster: name });
    }
    // Kept before the id-token is used: the old refresh-token is spent, losing the new one means a new login.
    if (tokens.refresh_token !== undefined && tokens.refresh_token !== refreshToken) {
      await store.set(refreshTokenKey, tokens.refresh_token, Infinity);
    }
    // Stored before the lock is released, so that waiting requests and replicas find it; one
    // already inside the margin serves this request only.
    const ttl = (usableUntil(idToken) ?? 0) - deps.now();
    if (ttl > 0) await store.set(idTokenKey, idToken, ttl);
    return idToken;
  }

  async function idToken(): Promise<string> {
    const stored = await store.get(idTokenKey);
    if (stored !== undefined) return stored;
    if (configIdToken && configIdToken.until > deps.now()) return configIdToken.token;
    return refreshOnce.run(idTokenKey, () => store.get(idTokenKey), reportedFetch(deps, name, 'oidc', refresh));
  }

  return {
    kind: 'oidc',
    obtain: () =>
      idToken().then(
        (token) => ({ token }),
        (error: unknown) => {
          if (error instanceof ClusterProxyError) throw error;
          throw new CredentialsUnavailableError(`cluster "${name}": the OIDC tokens could not be read or kept: ${describeError(error)}`, { cluster: name, cause: error, });
        },
      ),
    rejected: (credential) => {
      if (configIdToken?.token === credential.token) configIdToken = undefined;
      deps.tokenCache.invalidate(idTokenKey, credential.token).catch(deps.onError);
    },
  };
}
