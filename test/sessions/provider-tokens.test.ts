import { SignJWT } from 'jose';
import type { TokenEndpointResponse, TokenEndpointResponseHelpers } from 'openid-client';
import { describe, expect, it } from 'vitest';
import { forwardedToken, isFresh, tokensFromGrant } from '../../src/sessions/provider-tokens.ts';

const NOW = 1_700_000_000_000;

/** A token endpoint answer as openid-client hands it over. */
function answer(fields: Partial<TokenEndpointResponse>, expiresIn?: number): TokenEndpointResponse & TokenEndpointResponseHelpers {
  return { token_type: 'bearer', access_token: 'at', ...fields, claims: () => undefined, expiresIn: () => expiresIn } as TokenEndpointResponse & TokenEndpointResponseHelpers;
}

const idToken = (exp?: number) => new SignJWT(exp === undefined ? {} : { exp }).setProtectedHeader({ alg: 'HS256' }).sign(new Uint8Array(32));

describe('tokensFromGrant', () => {
  it('takes the id_token expiry from its exp', async () => {
    const token = await idToken(NOW / 1000 + 600);
    expect(tokensFromGrant('id_token', answer({ id_token: token, refresh_token: 'r1' }), NOW)).toEqual({
      idToken: token,
      accessToken: 'at',
      refreshToken: 'r1',
      expiresAt: NOW + 600_000,
      obtainedAt: NOW,
    });
  });

  it('takes the access token expiry from expires_in, and assumes 5 minutes when nothing says', async () => {
    expect(tokensFromGrant('access_token', answer({}, 120), NOW).expiresAt).toBe(NOW + 120_000);
    expect(tokensFromGrant('access_token', answer({}), NOW).expiresAt).toBe(NOW + 300_000);
    expect(tokensFromGrant('id_token', answer({ id_token: await idToken() }), NOW).expiresAt).toBe(NOW + 300_000);
  });

  it('keeps the previous refresh token and id_token when a refresh does not rotate them', async () => {
    const previous = tokensFromGrant('id_token', answer({ id_token: await idToken(NOW / 1000 + 60), refresh_token: 'r1' }), NOW);
    const next = tokensFromGrant('access_token', answer({ access_token: 'at2' }, 60), NOW + 1, previous);
    expect(next).toMatchObject({ refreshToken: 'r1', idToken: previous.idToken, accessToken: 'at2' });
    expect(tokensFromGrant('access_token', answer({ refresh_token: 'r2' }, 60), NOW, previous).refreshToken).toBe('r2');
  });

  it('refuses an answer without the forwarded token', () => {
    expect(() => tokensFromGrant('id_token', answer({}), NOW)).toThrow('the provider answered without an id_token');
  });

  it('refuses an id_token that is not a JWT', () => {
    expect(() => tokensFromGrant('id_token', answer({ id_token: 'garbage' }), NOW)).toThrow();
  });
});

describe('isFresh', () => {
  const tokens = (lifetimeMs: number) => ({ accessToken: 'a', expiresAt: NOW + lifetimeMs, obtainedAt: NOW });

  it('is fresh until the skew before expiry', () => {
    expect(isFresh(tokens(600_000), 60_000, NOW + 539_999)).toBe(true);
    expect(isFresh(tokens(600_000), 60_000, NOW + 540_000)).toBe(false);
    expect(isFresh(tokens(600_000), 60_000, NOW + 700_000)).toBe(false);
  });

  it('uses half the lifetime as the skew for tokens shorter than twice it', () => {
    expect(isFresh(tokens(20_000), 60_000, NOW + 9_999)).toBe(true);
    expect(isFresh(tokens(20_000), 60_000, NOW + 10_000)).toBe(false);
  });

  it('treats tokens that expired before they were obtained as stale', () => {
    expect(isFresh({ expiresAt: NOW - 1, obtainedAt: NOW }, 60_000, NOW)).toBe(false);
  });
});

describe('forwardedToken', () => {
  it('picks the token the clusters get', () => {
    const t = { idToken: 'id', accessToken: 'at', expiresAt: 1, obtainedAt: 0 };
    expect(forwardedToken(t, 'id_token')).toBe('id');
    expect(forwardedToken(t, 'access_token')).toBe('at');
  });
});
