import { describe, expect, it } from 'vitest';
import {
  bearerSubprotocol,
  readBearerSubprotocol,
  withoutBearerSubprotocol,
} from '../../src/credentials/bearer-subprotocol.ts';
import { BadRequestError } from '../../src/errors.ts';

const PREFIX = 'base64url.bearer.authorization.k8s.io.';

describe('readBearerSubprotocol', () => {
  it('decodes an unpadded base64url token and keeps the other protocols in order', () => {
    const token = 'eyJhbGciOi.JSUzI1NiJ9?~>';
    const header = `${bearerSubprotocol(token)}, v5.channel.k8s.io, v4.channel.k8s.io`;
    expect(readBearerSubprotocol(header)).toEqual({ token, protocols: ['v5.channel.k8s.io', 'v4.channel.k8s.io'] });
  });

  it('accepts unpadded standard base64, as browser code often sends', () => {
    const token = 'a?b>c~d';
    const standard = Buffer.from(token).toString('base64').replace(/=+$/, '');
    expect(standard).toMatch(/[+/]/);
    expect(readBearerSubprotocol(`${PREFIX}${standard},v4.channel.k8s.io`).token).toBe(token);
  });

  it('returns no token when there is no entry or no header', () => {
    expect(readBearerSubprotocol('v4.channel.k8s.io')).toEqual({ token: undefined, protocols: ['v4.channel.k8s.io'] });
    expect(readBearerSubprotocol(undefined)).toEqual({ token: undefined, protocols: [] });
  });

  it.each([
    ['two token entries', `${bearerSubprotocol('a')}, ${bearerSubprotocol('b')}, v4.channel.k8s.io`],
    ['a token entry alone', bearerSubprotocol('abc')],
    ['an empty token', `${PREFIX}, v4.channel.k8s.io`],
    ['padding', `${PREFIX}YWJj=, v4.channel.k8s.io`],
    ['characters outside base64', `${PREFIX}ab*c, v4.channel.k8s.io`],
    ['an impossible length', `${PREFIX}abcde, v4.channel.k8s.io`],
    ['invalid UTF-8', `${PREFIX}${Buffer.from([0xff, 0xfe, 0xfd]).toString('base64url')}, v4.channel.k8s.io`],
    ['a token with a space', `${PREFIX}${Buffer.from('a b').toString('base64url')}, v4.channel.k8s.io`],
    ['a token with a newline', `${PREFIX}${Buffer.from('a\nb').toString('base64url')}, v4.channel.k8s.io`],
    ['a token above U+00FF', `${PREFIX}xIA, v4.channel.k8s.io`],
    ['a token of Latin-1 letters', `${PREFIX}${Buffer.from('café').toString('base64url')}, v4.channel.k8s.io`],
    ['an entry missing the dot', `${PREFIX.slice(0, -1)}${Buffer.from('abc').toString('base64url')}, v4.channel.k8s.io`],
    ['another protocol that is not a token', `${bearerSubprotocol('abc')}, v4 channel`],
  ])('refuses %s', (_name, header) => {
    expect(() => readBearerSubprotocol(header)).toThrow(BadRequestError);
  });
});

describe('withoutBearerSubprotocol', () => {
  it('removes every token entry, whatever its shape', () => {
    expect(withoutBearerSubprotocol(`${PREFIX}!!, v4.channel.k8s.io, ${PREFIX}x`)).toBe('v4.channel.k8s.io');
    expect(withoutBearerSubprotocol(`${PREFIX.toUpperCase()}abc, binary.k8s.io`)).toBe('binary.k8s.io');
  });

  it('removes an entry missing its dot, so that its token never reaches a cluster', () => {
    expect(withoutBearerSubprotocol(`${PREFIX.slice(0, -1)}YWJj, v4.channel.k8s.io`)).toBe('v4.channel.k8s.io');
  });

  it('keeps the port-forward tunnel protocol, slash and plus included', () => {
    expect(withoutBearerSubprotocol(`${bearerSubprotocol('t')}, SPDY/3.1+portforward.k8s.io`)).toBe('SPDY/3.1+portforward.k8s.io');
  });

  it.each(['v4 channel', 'ba\tse64', 'a"b\x00, v4.channel.k8s.io', 'vß'])('refuses a protocol that is not a token: %j', (header) => {
    expect(() => withoutBearerSubprotocol(header)).toThrow(BadRequestError);
  });

  it('returns undefined when nothing remains', () => {
    expect(withoutBearerSubprotocol(bearerSubprotocol('t'))).toBeUndefined();
    expect(withoutBearerSubprotocol(undefined)).toBeUndefined();
  });
});
