import { describe, expect, it } from 'vitest';
import { parseCookies } from '../../src/credentials/cookies.ts';

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
