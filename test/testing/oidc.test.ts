import { bearerSubprotocol } from 'kube-cluster-proxy';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { startOidcProvider, type OidcProvider } from '../helpers/oidc-provider.ts';
import { execQuery } from '../helpers/websocket.ts';
import { channelText, framesUntilClose, httpRequest, openWebSocket } from './kit-helpers.ts';

let idp: OidcProvider;
let fake: FakeCluster;

beforeAll(async () => {
  idp = await startOidcProvider({ groups: { alice: ['devs', 'ops'] } });
  fake = await startFakeCluster({
    name: 'oidc',
    tokens: { 'static-token': 'robot' },
    oidc: { issuerUrl: idp.issuer, clientId: idp.clientId, usernamePrefix: 'oidc:', groupsClaim: 'groups' },
  });
});
afterAll(async () => {
  await fake.close();
  await idp.close();
});

async function whoami(token: string): Promise<{ status: number; user?: string; groups?: string[] }> {
  const res = await httpRequest(fake, '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}',
  });
  const info = (JSON.parse(res.body) as { status?: { userInfo?: { username?: string; groups?: string[] } } }).status?.userInfo;
  return { status: res.status, ...(info?.username ? { user: info.username, groups: info.groups } : {}) };
}

describe('startFakeCluster({ oidc })', () => {
  it('authenticates a valid id token as the prefixed claim, with its groups', async () => {
    const { idToken } = await idp.login('alice');
    expect(await whoami(idToken)).toEqual({ status: 201, user: 'oidc:alice', groups: ['devs', 'ops', 'system:authenticated'] });
    expect(fake.requests.at(-1)).toMatchObject({ user: 'oidc:alice', authenticatedBy: 'token' });
  });

  it('still accepts static tokens', async () => {
    expect(await whoami('static-token')).toMatchObject({ status: 201, user: 'robot' });
  });

  it.each([
    ['expired', () => idp.sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 5 })],
    ['for another audience', () => idp.sign({ sub: 'alice', aud: 'someone-else' })],
    ['from another issuer', () => idp.sign({ sub: 'alice', iss: 'https://idp.invalid' })],
    ['without the username claim', () => idp.sign({})],
    ['not a JWT', () => Promise.resolve('not-a-jwt')],
  ])('refuses an id token %s with 401', async (_case, token) => {
    expect(await whoami(await token())).toEqual({ status: 401 });
  });

  it('refuses a token whose signature does not verify', async () => {
    const { idToken } = await idp.login('alice');
    const [header, , signature] = idToken.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ sub: 'admin', aud: idp.clientId, iss: idp.issuer, exp: Math.floor(Date.now() / 1000) + 60 })).toString('base64url');
    expect(await whoami(`${header}.${forgedPayload}.${signature}`)).toEqual({ status: 401 });

    const { privateKey } = await generateKeyPair('RS256');
    const foreign = await new SignJWT({ sub: 'alice', aud: idp.clientId, iss: idp.issuer })
      .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
      .setExpirationTime('1m')
      .sign(privateKey);
    expect(await whoami(foreign)).toEqual({ status: 401 });
  });

  it('authenticates an id token in the WebSocket subprotocol', async () => {
    const { idToken } = await idp.login('alice');
    const attempt = await openWebSocket(fake, `/api/v1/namespaces/default/pods/web-oidc-1/exec?${execQuery(['whoami'])}`, [
      bearerSubprotocol(idToken),
      'v4.channel.k8s.io',
    ]);
    if (!('ws' in attempt)) throw new Error(`upgrade refused: ${attempt.status} ${attempt.body}`);
    expect(channelText((await framesUntilClose(attempt.ws)).frames, 1)).toBe('oidc:alice\n');
  });

  it('refuses an invalid oidc option', async () => {
    await expect(startFakeCluster({ oidc: { issuerUrl: 'not a url', clientId: 'x' } })).rejects.toThrow(/oidc must have an issuerUrl/);
  });
});
