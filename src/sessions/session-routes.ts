import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SessionCookies } from './session-cookies.ts';
import { sessionKeyOf, type SessionStore } from './session-store.ts';

/** Answers JSON that no cache keeps. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** `POST /logout` and `GET /me`: ending the session, and what a page may know about it. */
export function createSessionRoutes(deps: {
  sessions: SessionStore;
  cookies: SessionCookies;
  providerNames: readonly string[];
  endSession: (session: string) => Promise<void>;
}) {
  const { sessions, cookies } = deps;

  async function logout(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { id } = cookies.sessionOf(req);
    if (id) await deps.endSession(sessionKeyOf(id));
    sendJson(res, 200, { authenticated: false }, { 'set-cookie': cookies.clearSession(req) });
  }

  /** `{ authenticated, sub, email, expiresAt, providers }`: never a token. */
  async function me(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { id } = cookies.sessionOf(req);
    const session = id ? sessionKeyOf(id) : undefined;
    const identity = session ? await sessions.readIdentity(session) : undefined;
    if (!session || !identity) {
      sendJson(res, 200, { authenticated: false });
      return;
    }
    const logins: Record<string, { expiresAt: string }> = {};
    for (const name of deps.providerNames) {
      const tokens = await sessions.readTokens(session, name);
      if (tokens) logins[name] = { expiresAt: new Date(tokens.expiresAt).toISOString() };
    }
    const first = logins.default ?? Object.values(logins)[0];
    sendJson(res, 200, { authenticated: true, sub: identity.sub, email: identity.email ?? null, expiresAt: first?.expiresAt ?? null, providers: logins });
  }

  return { logout, me };
}
