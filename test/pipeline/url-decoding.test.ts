import { describe, expect, it } from 'vitest';
import { percentDecode, queryValue } from '../../src/pipeline/url-decoding.ts';

describe('percentDecode', () => {
  it.each<[string, boolean, string | undefined]>([
    ['plain', false, 'plain'],
    ['%65xec', false, 'exec'],
    ['pods%2Fx', false, 'pods/x'],
    ['d%C3%A9v', false, 'dév'],
    ['a+b', false, 'a+b'],
    ['a+b', true, 'a b'],
    ['a%2Bb', true, 'a+b'],
    ['%ff', false, '\uFFFD'], // Go keeps the byte; no name can hold it
    ['%C3', false, '\uFFFD'],
    ['a%ffb%2Fc', false, 'a\uFFFDb/c'],
    ['é%ff', false, 'é\uFFFD'],
    ['😀%ff', false, '😀\uFFFD'],
    ['%', false, undefined],
    ['%4', false, undefined],
    ['%zz', false, undefined],
    ['ok%2', false, undefined],
    ['%%41', false, undefined],
  ])('%j (plus is space: %s) is %j', (input, plus, expected) => {
    expect(percentDecode(input, plus)).toBe(expected);
  });
});

describe('queryValue', () => {
  it.each<[string, string | undefined]>([
    ['watch=1', '1'],
    ['a=b&watch=true', 'true'],
    ['watch', ''],
    ['watch=', ''],
    ['w%61tch=1', '1'],
    ['wat+ch=1', undefined], // the key is "wat ch"
    ['watch=%zz&watch=2', '2'], // a bad escape drops the pair
    ['watch=1;x=y', undefined], // Go drops pairs with a semicolon
    ['x=1;y&watch=3', '3'],
    ['watch=0&watch=1', '0'],
    ['watch=a+b%21', 'a b!'],
    ['watch=a=b', 'a=b'],
    ['&&watch=1&', '1'],
    ['watchx=1', undefined],
    ['x=watch', undefined],
    ['watch%3D1', undefined], // split on "=" before unescaping: the key is "watch=1"
    ['', undefined],
    ['&', undefined],
  ])('%j gives %j', (query, expected) => {
    expect(queryValue(query, 'watch')).toBe(expected);
  });

  it('reads a long query in one pass', () => {
    expect(queryValue(`${'x=1&'.repeat(100_000)}watch=1`, 'watch')).toBe('1');
    expect(queryValue(';'.repeat(100_000), 'watch')).toBeUndefined();
  });
});
