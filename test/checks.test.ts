import { describe, expect, it } from 'vitest';
import { hasControlCharacter, isBearerToken, isHttpToken, isHttpUrl, isTokenStore, utf8HeaderValue } from '../src/checks.ts';
import { memoryTokenStore } from '../src/tokens/memory-token-store.ts';

describe('isBearerToken', () => {
  it.each(['abc', 'eyJhbGciOi.x-y_z~+/=', 'k8s-aws-v1.aHR0cHM6Ly9zdHM', '!#$%&*', 'tok,en'])('accepts %j', (token) => {
    expect(isBearerToken(token)).toBe(true);
  });
  it.each(['', ' ', 'a b', 'a\tb', 'tok\x7f', 'tok\x80', 'tok\xff', 'Ā', 'a\r\nb', '\0'])('refuses %j', (token) => {
    expect(isBearerToken(token)).toBe(false);
  });
});

describe('isHttpToken', () => {
  it.each(['v4.channel.k8s.io', 'SPDY/3.1'.replace('/', ''), 'cluster-token', "a!#$%&'*+-.^_`|~"])('accepts %j', (value) => {
    expect(isHttpToken(value)).toBe(true);
  });
  it.each(['', 'a b', 'a/b', 'a,b', 'a;b', 'ß', 'a\tb', '"a"'])('refuses %j', (value) => {
    expect(isHttpToken(value)).toBe(false);
  });
});

describe('header values', () => {
  it('finds control characters', () => {
    expect(hasControlCharacter('jane')).toBe(false);
    expect(hasControlCharacter('Jürgen Müller')).toBe(false);
    expect(hasControlCharacter('a\r\nb')).toBe(true);
    expect(hasControlCharacter('a\x7f')).toBe(true);
  });
  it('keeps ASCII as it is and carries other text as its UTF-8 bytes', () => {
    expect(utf8HeaderValue('system:masters')).toBe('system:masters');
    const value = utf8HeaderValue('Jürgen ✓');
    expect(Buffer.from(value, 'latin1').toString('utf8')).toBe('Jürgen ✓');
    expect([...value].every((c) => c.charCodeAt(0) <= 0xff)).toBe(true);
  });
});

describe('isHttpUrl', () => {
  it.each(['https://idp.example.com', 'http://127.0.0.1:8080/realms/x', 'HTTPS://IDP.EXAMPLE.COM/', 'https://u@h/p?q#f'])('accepts %j', (value) => {
    expect(isHttpUrl(value)).toBe(true);
  });
  it.each<unknown>(['', '/callback', 'idp.example.com', '//idp.example.com', 'ftp://x', 'file:///etc/passwd', 'javascript:alert(1)', 'ws://x', 'http://', 'https://[::1', undefined, null, 42, {}, new URL('https://x')])(
    'refuses %j',
    (value) => {
      expect(isHttpUrl(value)).toBe(false);
    },
  );
});

describe('isTokenStore', () => {
  const fn = () => Promise.resolve(undefined);
  it('accepts a store with get, set and delete, with or without tryLock', () => {
    expect(isTokenStore(memoryTokenStore())).toBe(true);
    expect(isTokenStore({ get: fn, set: fn, delete: fn })).toBe(true);
  });
  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['a function', fn],
    ['a store without delete', { get: fn, set: fn }],
    ['a store whose set is not a function', { get: fn, set: 'redis', delete: fn }],
    ['a store whose tryLock is not a function', { get: fn, set: fn, delete: fn, tryLock: true }],
  ])('refuses %s', (_what, value) => {
    expect(isTokenStore(value)).toBe(false);
  });
});
