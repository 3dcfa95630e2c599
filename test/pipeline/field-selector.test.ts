import { describe, expect, it } from 'vitest';
import { nameFromFieldSelector } from '../../src/pipeline/field-selector.ts';

describe('nameFromFieldSelector', () => {
  it.each([
    ['metadata.name=web-1', 'web-1'],
    ['metadata.name==web-1', 'web-1'],
    ['status.phase=Running,metadata.name=web-1', 'web-1'],
    ['metadata.name=a\\,b', 'a,b'],
    ['metadata.name=a\\=b', 'a=b'],
    ['metadata.name=a\\\\b', 'a\\b'],
    ['metadata.name=b,metadata.name=a', 'a'], // terms are sorted, the first match wins
    ['metadata.name!=web-1', ''],
    ['spec.nodeName=node-1', ''],
    ['metadata.namespace=default', ''],
    [',,metadata.name=x,', 'x'], // empty terms are skipped
    ['metadata.name=a/b', ''], // not a valid path segment name
    ['metadata.name=.', ''],
    ['metadata.name=..', ''],
    ['metadata.name=a%25', ''],
    ['metadata.name=a,bad', ''], // a term without an operator: the selector does not parse
    ['metadata.name=a,x!=y\\q', ''], // an unknown escape anywhere
    ['metadata.name=a\\', ''],
    ['metadata.name=a=b', ''], // an unescaped "="
    ['metadata.name===a', ''],
    ['metadata.name=', ''],
    ['metadata.name', ''],
    ['', ''],
    ['\\', ''],
  ])('%j pins %j', (selector, name) => {
    expect(nameFromFieldSelector(selector)).toBe(name);
  });

  it('reads a long selector', () => {
    expect(nameFromFieldSelector(`${'a=b,'.repeat(50_000)}metadata.name=z`)).toBe('z');
    expect(nameFromFieldSelector('\\,'.repeat(50_000))).toBe('');
  });
});
