import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryTokenStore, oidcSessions, SessionError } from 'kube-cluster-proxy';
import { createSessionRouter } from '../../src/sessions/session-router.ts';
import { sessionKeyOf, tokensKeyOf } from '../../src/sessions/session-store.ts';
import { closeServer, listen, sendRaw } from '../helpers/servers.ts';

let server: Server | undefined;
afterEach(async () => {
  if (server) await closeServer(server);
  server = undefined;
});

function recordingLogger() {
  const errors: unknown[][] = [];
  return { errors, logger: { warn: () => {}, error: (...args: unknown[]) => errors.push(args) } };
}

async function serve(router: ReturnType<typeof createSessionRouter>): Promise<string> {
  server = createServer((req, res) => router(req, res));
  return listen(server);
}

describe('createSessionRouter', () => {
  it("answers a route's refusal with its Status, and its own failures with a 500 whose details go to the logger only", async () => {
    const { errors, logger } = recordingLogger();
    const base = await serve(
      createSessionRouter(
        {
          'GET /refused': () => Promise.reject(new SessionError('start the login again')),
          'GET /broken': () => Promise.reject(new Error('db password is hunter2')),
          'GET /thrown': () => {
            throw new TypeError('cannot read x of undefined');
          },
          'GET /ok': (_req, res) => Promise.resolve(void res.end('fine')),
        },
        logger,
      ),
    );
    const refused = await fetch(`${base}/refused`);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ kind: 'Status', reason: 'BadRequest', message: 'start the login again' });
    const broken = await fetch(`${base}/broken`);
    expect(broken.status).toBe(500);
    const body = await broken.text();
    expect(JSON.parse(body)).toMatchObject({ kind: 'Status', reason: 'InternalError', code: 500 });
    expect(body).not.toContain('hunter2');
    expect(errors).toHaveLength(1);
    expect(String(errors[0]![1])).toContain('hunter2');
    expect(await (await fetch(`${base}/ok/`)).text()).toBe('fine');
    // A route that throws instead of rejecting is the same failure.
    await expect(fetch(`${base}/thrown`).then((r) => r.status)).resolves.toBe(500);
  });

  it('passes anything else to next, or answers 404 without it, including URLs that do not parse', async () => {
    const router = createSessionRouter({ 'GET /me': () => Promise.resolve() }, recordingLogger().logger);
    const passed: string[] = [];
    server = createServer((req, res) => router(req, res, () => {
      passed.push(`${req.method} ${req.url}`);
      res.end('next');
    }));
    const base = await listen(server);
    expect(await (await fetch(`${base}/other`)).text()).toBe('next');
    expect(await (await fetch(`${base}/me`, { method: 'POST' })).text()).toBe('next');
    expect(await (await fetch(`${base}/__proto__`)).text()).toBe('next');
    expect(await sendRaw(base, 'GET http://[bad HTTP/1.1\r\nhost: x\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 [^]*\r\n\r\nnext$/);
    expect(passed).toEqual(['GET /other', 'POST /me', 'GET /__proto__', 'GET http://[bad']);
    await closeServer(server);
    const alone = await serve(router);
    expect((await fetch(`${alone}/other`)).status).toBe(404);
  });
});

describe('the oidcSessions router', () => {
  const options = {
    issuer: 'https://idp.example.com',
    clientId: 'dashboard',
    redirectUri: 'https://dash.example.com/auth/callback',
    secret: 'a-secret-of-at-least-32-characters!!',
  };

  it('answers 500 (not 400) when a session entry breaks /me, and logs why', async () => {
    const store = memoryTokenStore();
    const { errors, logger } = recordingLogger();
    const sessions = oidcSessions({ ...options, tokenStore: store, logger });
    const id = 'A'.repeat(43);
    const session = sessionKeyOf(id);
    await store.set(session, JSON.stringify({ sub: 'alice', endsAt: Date.now() + 60_000 }), 60_000);
    // A number, so it passes the shape check, but no date can be made of it.
    await store.set(tokensKeyOf(session, 'default'), JSON.stringify({ expiresAt: 1e300, obtainedAt: 0 }), 60_000);
    const base = await serve(sessions.router);
    const res = await fetch(`${base}/me`, { headers: { cookie: `cluster-session=${id}` } });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ reason: 'InternalError' });
    expect(errors).toHaveLength(1);
    sessions.close();
  });

  it('still answers a forged callback state with 400', async () => {
    const sessions = oidcSessions({ ...options, logger: recordingLogger().logger });
    const base = await serve(sessions.router);
    const res = await fetch(`${base}/callback?code=c&state=forged`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/login state is not valid/);
    sessions.close();
  });
});
