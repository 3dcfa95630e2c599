import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isSecureRequest, parseCookies, serializeCookie } from '../../src/credentials/cookies.ts';

describe('parseCookies', () => {
  it('parses name=value pairs, the first occurrence winning', () => {
    const cookies = parseCookies('a=1; b="two"; a=3;c=x=y');
    expect([...cookies]).toEqual([
      ['a', '1'],
      ['b', 'two'],
      ['c', 'x=y'],
    ]);
  });

  it.each([
    ['empty', ''],
    ['only separators', ';;; ;'],
    ['no equals sign', 'abc'],
    ['no name', '=value'],
    ['garbage', '\u0001\u0002=;=;'],
  ])('ignores malformed input: %s', (_name, header) => {
    const cookies = parseCookies(header);
    expect([...cookies.keys()].every((k) => k.length > 0 && !k.includes(';'))).toBe(true);
    expect(cookies.has('')).toBe(false);
  });

  it('returns an empty map without a header', () => {
    expect(parseCookies(undefined).size).toBe(0);
  });
});

describe('serializeCookie', () => {
  it('writes the attributes in one order, HttpOnly unless told otherwise', () => {
    expect(serializeCookie('s', 'v', { path: '/', sameSite: 'Lax', secure: true, maxAgeSeconds: 60.9 })).toBe('s=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure');
    expect(serializeCookie('s', 'v', { path: '/a', sameSite: 'Strict', secure: false, httpOnly: false })).toBe('s=v; Path=/a; SameSite=Strict');
  });

  it('expires with Max-Age=0, whatever negative or huge value is given', () => {
    expect(serializeCookie('s', '', { path: '/', sameSite: 'Lax', secure: false, maxAgeSeconds: -5 })).toBe('s=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0');
    expect(serializeCookie('s', '', { path: '/', sameSite: 'Lax', secure: false, maxAgeSeconds: Infinity })).toMatch(/Max-Age=9007199254740991/);
  });

  it('round-trips through parseCookies', () => {
    const value = encodeURIComponent("tok/+=en'(x)*!~");
    const cookie = serializeCookie('cluster-token', value, { path: '/clusters/a', sameSite: 'Strict', secure: false });
    expect(parseCookies(cookie.split(';', 1)[0]).get('cluster-token')).toBe(value);
  });

  it.each<[string, string, string, string]>([
    ['a name with a space', 'a b', 'v', '/'],
    ['a name with =', 'a=b', 'v', '/'],
    ['an empty name', '', 'v', '/'],
    ['a value with ;', 'a', 'v; Domain=evil', '/'],
    ['a value with a newline', 'a', 'v\r\nSet-Cookie: x=1', '/'],
    ['a value with a space', 'a', 'v w', '/'],
    ['a value with a quote', 'a', '"v"', '/'],
    ['a value beyond ASCII', 'a', 'ü', '/'],
    ['a path with ;', 'a', 'v', '/x; Domain=evil'],
    ['a path with a newline', 'a', 'v', '/x\n'],
  ])('refuses %s: it would break the header', (_what, name, value, path) => {
    expect(() => serializeCookie(name, value, { path, sameSite: 'Lax', secure: false })).toThrow(TypeError);
  });

  it('refuses a Max-Age that is not a number', () => {
    expect(() => serializeCookie('a', 'v', { path: '/', sameSite: 'Lax', secure: false, maxAgeSeconds: NaN })).toThrow(TypeError);
  });
});

describe('isSecureRequest', () => {
  function request(headers: Record<string, string | string[]>, encrypted = false): IncomingMessage {
    const socket = new Socket();
    if (encrypted) Object.assign(socket, { encrypted: true });
    const req = new IncomingMessage(socket);
    Object.assign(req.headers, headers);
    return req;
  }

  it('is true over TLS, whatever the headers say', () => {
    expect(isSecureRequest(request({}, true))).toBe(true);
    expect(isSecureRequest(request({ 'x-forwarded-proto': 'http' }, true), true)).toBe(true);
  });

  it('believes X-Forwarded-Proto only with trustProxy, and only its first entry', () => {
    expect(isSecureRequest(request({ 'x-forwarded-proto': 'https' }))).toBe(false);
    expect(isSecureRequest(request({ 'x-forwarded-proto': 'https' }), true)).toBe(true);
    expect(isSecureRequest(request({ 'x-forwarded-proto': ' HTTPS , http' }), true)).toBe(true);
    expect(isSecureRequest(request({ 'x-forwarded-proto': 'http, https' }), true)).toBe(false);
    expect(isSecureRequest(request({ 'x-forwarded-proto': ['https', 'http'] }), true)).toBe(true);
    expect(isSecureRequest(request({ 'x-forwarded-proto': '' }), true)).toBe(false);
    expect(isSecureRequest(request({}), true)).toBe(false);
  });

  it('is false without a request', () => {
    expect(isSecureRequest(undefined, true)).toBe(false);
  });
});
