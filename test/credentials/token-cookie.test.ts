import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseCookies } from '../../src/credentials/cookies.ts';
import {
  MAX_COOKIE_CHUNK,
  clearClusterTokenCookie,
  readTokenCookie,
  setClusterTokenCookie,
} from '../../src/credentials/token-cookie.ts';
import { BadRequestError, InvalidOptionError } from '../../src/errors.ts';

function response(cookieHeader?: string, encrypted = false): ServerResponse {
  const socket = new Socket();
  if (encrypted) Object.assign(socket, { encrypted: true });
  const req = new IncomingMessage(socket);
  if (cookieHeader) req.headers.cookie = cookieHeader;
  return new ServerResponse(req);
}

function setCookies(res: ServerResponse): string[] {
  const value = res.getHeader('set-cookie');
  return Array.isArray(value) ? value : value === undefined ? [] : [String(value)];
}

/** What a browser would send back: name=value of every cookie not expired. */
function browserCookies(res: ServerResponse): Map<string, string> {
  const pairs = setCookies(res)
    .filter((c) => !c.includes('Max-Age=0'))
    .map((c) => c.split(';', 1)[0]);
  return parseCookies(pairs.join('; '));
}

describe('setClusterTokenCookie', () => {
  it('sets a HttpOnly, SameSite=Strict cookie scoped to the cluster path', () => {
    const res = response();
    setClusterTokenCookie(res, 'prod', 'tok.en-1');
    expect(setCookies(res)).toEqual(['cluster-token=tok.en-1; Path=/clusters/prod; HttpOnly; SameSite=Strict']);
  });

  it('adds Secure over TLS, honours mountPath, cookieName and maxAgeSeconds', () => {
    const res = response(undefined, true);
    setClusterTokenCookie(res, 'my cluster', 't', { mountPath: '/k8s/', cookieName: 'k', maxAgeSeconds: 60 });
    expect(setCookies(res)).toEqual(['k=t; Path=/k8s/my%20cluster; HttpOnly; SameSite=Strict; Max-Age=60; Secure']);
  });

  it('scopes the cookie under the root for a proxy mounted there', () => {
    for (const mountPath of ['', '/']) {
      const res = response();
      setClusterTokenCookie(res, 'prod', 't', { mountPath });
      expect(setCookies(res)).toEqual(['cluster-token=t; Path=/prod; HttpOnly; SameSite=Strict']);
    }
  });

  it.each(['clusters', '/a;b', '/a\nb'])('refuses the mountPath %j, which no cookie Path can carry', (mountPath) => {
    expect(() => setClusterTokenCookie(response(), 'prod', 't', { mountPath })).toThrow(/mountPath must be a path/);
  });

  it('keeps Set-Cookie headers set before', () => {
    const res = response();
    res.setHeader('set-cookie', ['session=1']);
    setClusterTokenCookie(res, 'a', 't');
    expect(setCookies(res)).toHaveLength(2);
  });

  it('chunks a long token and reads it back whole', () => {
    const token = 'x'.repeat(MAX_COOKIE_CHUNK * 2 + 10);
    const res = response();
    setClusterTokenCookie(res, 'prod', token);
    const written = setCookies(res);
    expect(written).toHaveLength(4);
    expect(written.every((c) => c.split(';', 1)[0]!.length <= MAX_COOKIE_CHUNK + 20)).toBe(true);
    expect(readTokenCookie(browserCookies(res), 'cluster-token')).toBe(token);
  });

  it('expires chunks left over from a longer token', () => {
    const res = response('cluster-token=chunks:3; cluster-token.0=a; cluster-token.1=b; cluster-token.2=c');
    setClusterTokenCookie(res, 'prod', 'short');
    const expired = setCookies(res).filter((c) => c.includes('Max-Age=0')).map((c) => c.split('=', 1)[0]);
    expect(expired.sort()).toEqual(['cluster-token.0', 'cluster-token.1', 'cluster-token.2']);
    expect(readTokenCookie(browserCookies(res), 'cluster-token')).toBe('short');
  });

  it.each([
    ['an empty token', 'a', '', {}],
    ['a token with a space', 'a', 'a b', {}],
    ['a cluster with a slash', 'a/b', 't', {}],
    ['an empty cluster', '', 't', {}],
    ['an invalid cookie name', 'a', 't', { cookieName: 'bad name' }],
  ])('refuses %s', (_name, cluster, token, options) => {
    expect(() => setClusterTokenCookie(response(), cluster, token, options)).toThrow(InvalidOptionError);
  });
});

describe('clearClusterTokenCookie', () => {
  it('expires the cookie and the chunks the request carried', () => {
    const res = response('cluster-token=chunks:2; cluster-token.0=a; cluster-token.1=b');
    clearClusterTokenCookie(res, 'prod');
    const written = setCookies(res);
    expect(written).toHaveLength(3);
    expect(written.every((c) => c.includes('Max-Age=0') && c.includes('Path=/clusters/prod'))).toBe(true);
  });
});

describe('readTokenCookie', () => {
  it('decodes percent-encoding', () => {
    expect(readTokenCookie(new Map([['t', 'a%2Bb']]), 't')).toBe('a+b');
  });

  it('returns undefined when absent or empty', () => {
    expect(readTokenCookie(new Map(), 't')).toBeUndefined();
    expect(readTokenCookie(new Map([['t', '']]), 't')).toBeUndefined();
  });

  it.each([
    ['bad percent-encoding', [['t', '%E0%A4%A']]],
    ['a missing chunk', [['t', 'chunks:2'], ['t.0', 'a']]],
    ['a decoded space', [['t', 'a%20b']]],
    ['a decoded newline', [['t', 'a%0Ab']]],
  ] as const)('refuses %s', (_name, entries) => {
    expect(() => readTokenCookie(new Map(entries.map(([k, v]) => [k, v])), 't')).toThrow(BadRequestError);
  });
});
