import { describe, expect, it } from 'vitest';
import { hasControlCharacter, isBearerToken, isHttpToken, utf8HeaderValue } from '../src/checks.ts';

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
