import { decodeJwt } from 'jose';
import type { TokenEndpointResponse, TokenEndpointResponseHelpers } from 'openid-client';
import type { ProviderTokens } from './session-store.ts';

/** Lifetime assumed for a token whose expiry the provider does not say, in ms. */
const UNKNOWN_LIFETIME_MS = 300_000;

/**
 * The tokens to keep from a token endpoint answer (a login or a refresh), and when the forwarded
 * one expires: its `exp` for an id_token, `expires_in` for an access token.
 * @throws {Error} when the answer lacks the token that is forwarded.
 */
export function tokensFromGrant(
  forward: 'id_token' | 'access_token',
  answer: TokenEndpointResponse & TokenEndpointResponseHelpers,
  now: number,
  previous?: ProviderTokens,
): ProviderTokens {
  const idToken = answer.id_token ?? previous?.idToken;
  const forwarded = forward === 'id_token' ? idToken : answer.access_token;
  if (!forwarded) throw new Error(`the provider answered without an ${forward}`);
  let expiresAt: number;
  if (forward === 'id_token' && idToken) {
    const exp = decodeJwt(idToken).exp;
    expiresAt = typeof exp === 'number' ? exp * 1000 : now + UNKNOWN_LIFETIME_MS;
  } else {
    const lifetime = answer.expiresIn();
    expiresAt = now + (lifetime === undefined ? UNKNOWN_LIFETIME_MS : lifetime * 1000);
  }
  // Providers that rotate send a new refresh token; others keep the old one valid.
  const refreshToken = answer.refresh_token ?? previous?.refreshToken;
  return {
    ...(idToken ? { idToken } : {}),
    accessToken: answer.access_token,
    ...(refreshToken ? { refreshToken } : {}),
    expiresAt,
    obtainedAt: now,
  };
}

/**
 * Whether the token is good for a while: further than `skewMs` from its expiry, the skew being at
 * most half its lifetime, so that a token living shorter than twice the skew is not refreshed on
 * every request.
 */
export function isFresh(tokens: ProviderTokens, skewMs: number, now: number): boolean {
  const skew = Math.min(skewMs, Math.max(0, tokens.expiresAt - tokens.obtainedAt) / 2);
  return tokens.expiresAt - now > skew;
}

/** The token the clusters get. */
export function forwardedToken(tokens: ProviderTokens, forward: 'id_token' | 'access_token'): string {
  return (forward === 'id_token' ? tokens.idToken : tokens.accessToken) ?? '';
}
