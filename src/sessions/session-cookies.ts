import type { IncomingMessage } from 'node:http';
import { isSecureRequest, parseCookies, serializeCookie } from '../credentials/cookies.ts';

/** A session id as the callback makes it: 32 random bytes, base64url. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** The session cookie a request carries: whether there is one, and its id when it is well-formed. */
export interface SessionCookie {
  present: boolean;
  /** Only for a value that can be a session id; a forged or damaged one is `undefined`. */
  id: string | undefined;
}

/**
 * The two cookies of the sessions: the session's (`Path=/`, it authenticates every cluster
 * request) and the login's (`<name>-login`, on the callback's path only, binding a login to the
 * browser that started it). Both `HttpOnly`, `SameSite=Lax` (the provider's redirect back must
 * carry them) and `Secure` over TLS or behind a trusted TLS-terminating proxy.
 */
export function createSessionCookies(options: { cookieName: string; callbackPath: string; trustProxy: boolean }) {
  const { cookieName, callbackPath } = options;
  const stateCookie = `${cookieName}-login`;
  const write = (req: IncomingMessage, name: string, value: string, path: string, maxAgeSeconds: number) =>
    serializeCookie(name, value, { path, sameSite: 'Lax', secure: isSecureRequest(req, options.trustProxy), maxAgeSeconds });

  return {
    sessionOf(req: IncomingMessage): SessionCookie {
      const value = parseCookies(req.headers.cookie).get(cookieName);
      const present = value !== undefined && value !== '';
      return { present, id: present && SESSION_ID.test(value) ? value : undefined };
    },
    session: (req: IncomingMessage, id: string, maxAgeSeconds: number) => write(req, cookieName, id, '/', maxAgeSeconds),
    clearSession: (req: IncomingMessage) => write(req, cookieName, '', '/', 0),
    /** The id of the login the request's browser started, if any. */
    loginStateOf: (req: IncomingMessage) => parseCookies(req.headers.cookie).get(stateCookie),
    loginState: (req: IncomingMessage, jti: string, maxAgeSeconds: number) => write(req, stateCookie, jti, callbackPath, maxAgeSeconds),
    clearLoginState: (req: IncomingMessage) => write(req, stateCookie, '', callbackPath, 0),
  };
}

export type SessionCookies = ReturnType<typeof createSessionCookies>;
