import { describe, expect, it } from 'vitest';
import { safeReturnTo } from '../../src/sessions/login-routes.ts';

describe('safeReturnTo', () => {
  it.each([
    ['/', '/'],
    ['/clusters/prod/version', '/clusters/prod/version'],
    ['/a?b=c#d', '/a?b=c#d'],
    ['/ü/Ā', '/%C3%BC/%C4%80'],
    ['/a b', '/a%20b'],
  ])('keeps a path on this site: %j', (value, expected) => {
    expect(safeReturnTo(value)).toBe(expected);
  });

  it.each([null, '', 'https://evil.example/', '//evil.example/x', '/\\evil.example', '\\\\evil', 'evil', '/a\r\nSet-Cookie: x=1', '/a\u0000', '/a\tb', 'javascript:alert(1)'])(
    'sends anything else to /: %j',
    (value) => {
      expect(safeReturnTo(value)).toBe('/');
    },
  );

  it('always gives a value a Location header can carry', () => {
    for (const value of ['/\u{1F600}', '/\u00ff', '/%', '/%zz', `/${'x'.repeat(5000)}`]) {
      expect(safeReturnTo(value)).toMatch(/^\/[\x21-\x7e]*$/);
    }
  });
});
