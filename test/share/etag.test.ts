import { describe, expect, it } from 'vitest';
import { bodyEtag, ifNoneMatchMatches } from '../../src/share/etag.ts';

describe('bodyEtag', () => {
  it('is a strong tag, equal for equal bodies only', () => {
    const tag = bodyEtag(Buffer.from('{"kind":"APIGroupList"}'));
    expect(tag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(bodyEtag(Buffer.from('{"kind":"APIGroupList"}'))).toBe(tag);
    expect(bodyEtag(Buffer.from('{"kind":"APIGroupList" }'))).not.toBe(tag);
  });
});

describe('ifNoneMatchMatches', () => {
  const tag = '"abc"';
  it.each([
    ['"abc"', true],
    ['W/"abc"', true],
    ['"x", "abc"', true],
    [' "x" ,W/"abc" ', true],
    ['*', true],
    [['"x"', '"abc"'], true],
    [undefined, false],
    ['', false],
    ['"abcd"', false],
    ['abc', false],
    ['"abc', false],
    ['w/"abc"', false],
    ['"a"bc"', false],
    [`${'"x",'.repeat(3000)}"abc"`, false],
  ])('%j matches: %s', (header, expected) => {
    expect(ifNoneMatchMatches(header, tag)).toBe(expected);
  });

  it('compares weak tags of the cluster weakly too', () => {
    expect(ifNoneMatchMatches('"abc"', 'W/"abc"')).toBe(true);
  });
});
