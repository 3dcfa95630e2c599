import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { bearerSubprotocol } from '../../src/credentials/bearer-subprotocol.ts';
import { findUserToken } from '../../src/credentials/user-token.ts';
import { BadRequestError } from '../../src/errors.ts';

function request(headers: Record<string, string>): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  Object.assign(req.headers, headers);
  return req;
}

describe('findUserToken', () => {
  it('prefers Authorization, then the subprotocol, then the cookie', () => {
    const all = {
      authorization: 'Bearer header-token',
      'sec-websocket-protocol': `${bearerSubprotocol('ws-token')}, v4.channel.k8s.io`,
      cookie: 'cluster-token=cookie-token',
    };
    expect(findUserToken(request(all), 'cluster-token')).toEqual({ token: 'header-token', source: 'header' });
    const { authorization: _a, ...noHeader } = all;
    expect(findUserToken(request(noHeader), 'cluster-token')).toEqual({ token: 'ws-token', source: 'subprotocol' });
    expect(findUserToken(request({ cookie: all.cookie }), 'cluster-token')).toEqual({ token: 'cookie-token', source: 'cookie' });
  });

  it('accepts any case of the scheme and passes over other schemes', () => {
    expect(findUserToken(request({ authorization: 'bearer abc' }), 'c')?.token).toBe('abc');
    expect(findUserToken(request({ authorization: 'Basic dXNlcjpwdw==' }), 'c')).toBeUndefined();
    expect(findUserToken(request({ authorization: 'Basic x', cookie: 'c=t' }), 'c')).toEqual({ token: 't', source: 'cookie' });
  });

  it('returns undefined without any source', () => {
    expect(findUserToken(request({ cookie: 'other=1' }), 'cluster-token')).toBeUndefined();
  });

  it.each([
    ['an empty bearer', { authorization: 'Bearer' }],
    ['a bearer with only spaces', { authorization: 'Bearer    ' }],
    ['a token with a space', { authorization: 'Bearer a b' }],
    ['a malformed subprotocol', { 'sec-websocket-protocol': 'base64url.bearer.authorization.k8s.io.***, v4.channel.k8s.io' }],
    ['a malformed cookie', { cookie: 'cluster-token=%ZZ' }],
  ])('refuses %s', (_name, headers) => {
    expect(() => findUserToken(request(headers), 'cluster-token')).toThrow(BadRequestError);
  });
});
