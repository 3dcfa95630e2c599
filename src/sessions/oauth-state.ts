import { randomBytes } from 'node:crypto';
import { EncryptJWT, errors, jwtDecrypt } from 'jose';
import { SessionError } from '../errors.ts';
import { deriveKey } from '../tokens/derive-key.ts';

/** What a login needs to remember until the identity provider redirects back. */
export interface LoginState {
  /** PKCE code verifier. */
  verifier: string;
  nonce: string;
  /** Where to send the user after the login: a path on this site. */
  returnTo: string;
  /** The provider the login is with. */
  provider: string;
  /** Unique id of this login attempt, so that a state is accepted once. */
  jti: string;
}

const AUDIENCE = 'kube-cluster-proxy/oauth-state';

/**
 * Seals the OAuth state into the `state` parameter itself, encrypted and authenticated
 * (JWE, `dir` + A256GCM) with a key derived from the sessions `secret`: every replica that shares
 * the secret can finish a login that another one started, and nobody else can read or forge it.
 */
export function createStateSealer(secret: string | Uint8Array, lifetimeSeconds: number, now: () => number = Date.now) {
  const key = deriveKey(secret, 'oauth-state', { salt: 'kube-cluster-proxy' });
  return {
    async seal(state: Omit<LoginState, 'jti'>): Promise<LoginState & { sealed: string }> {
      const jti = randomBytes(16).toString('base64url');
      const sealed = await new EncryptJWT({ v: state.verifier, n: state.nonce, r: state.returnTo, p: state.provider })
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
        .setJti(jti)
        .setAudience(AUDIENCE)
        .setIssuedAt(Math.floor(now() / 1000))
        .setExpirationTime(Math.floor(now() / 1000) + lifetimeSeconds)
        .encrypt(key);
      return { ...state, jti, sealed };
    },
    /** @throws {SessionError} for a state that is expired, forged or not one of ours. */
    async open(sealed: string): Promise<LoginState> {
      try {
        const { payload } = await jwtDecrypt(sealed, key, { audience: AUDIENCE, currentDate: new Date(now()) });
        const { v, n, r, p, jti } = payload;
        if (typeof v !== 'string' || typeof n !== 'string' || typeof r !== 'string' || typeof p !== 'string' || typeof jti !== 'string') {
          throw new SessionError('the login state is malformed: start the login again');
        }
        return { verifier: v, nonce: n, returnTo: r, provider: p, jti };
      } catch (error) {
        if (error instanceof SessionError) throw error;
        if (error instanceof errors.JWTExpired) throw new SessionError('the login took too long and its state expired: start the login again', { cause: error });
        throw new SessionError('the login state is not valid (forged, damaged or from another deployment): start the login again', { cause: error });
      }
    },
  };
}
