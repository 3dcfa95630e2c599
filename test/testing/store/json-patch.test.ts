import { describe, expect, it } from 'vitest';
import { applyJsonPatch, applyMergePatch, PatchError } from '../../../src/testing/store/json-patch.ts';

const pod = () => ({ metadata: { name: 'web', labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx:1' }] } });

function failure(run: () => unknown): PatchError {
  try {
    run();
  } catch (error) {
    if (error instanceof PatchError) return error;
    throw error;
  }
  throw new Error('expected a PatchError');
}

describe('JSON patch (RFC 6902)', () => {
  it('applies add, remove, replace, move, copy and test, leaving the input alone', () => {
    const input = pod();
    const result = applyJsonPatch(input, [
      { op: 'test', path: '/metadata/name', value: 'web' },
      { op: 'add', path: '/metadata/labels/tier', value: 'front' },
      { op: 'replace', path: '/spec/containers/0/image', value: 'nginx:2' },
      { op: 'add', path: '/spec/containers/-', value: { name: 'side', image: 'busybox' } },
      { op: 'copy', from: '/metadata/labels/app', path: '/metadata/labels/copied' },
      { op: 'move', from: '/metadata/labels/tier', path: '/metadata/annotations' },
      { op: 'remove', path: '/metadata/labels/app' },
    ]);
    expect(result).toEqual({
      metadata: { name: 'web', labels: { copied: 'web' }, annotations: 'front' },
      spec: { containers: [{ name: 'app', image: 'nginx:2' }, { name: 'side', image: 'busybox' }] },
    });
    expect(input).toEqual(pod());
  });

  it('unescapes ~1 and ~0 in pointers and inserts at an index', () => {
    const result = applyJsonPatch({ metadata: { annotations: {} }, list: [1, 3] }, [
      { op: 'add', path: '/metadata/annotations/example.com~1a~0b', value: 'x' },
      { op: 'add', path: '/list/1', value: 2 },
    ]);
    expect(result).toEqual({ metadata: { annotations: { 'example.com/a~b': 'x' } }, list: [1, 2, 3] });
  });

  it('refuses malformed patches at decoding (400 material)', () => {
    const cases: unknown[] = [
      { op: 'add', path: '/a', value: 1 },
      'not a patch',
      [{ path: '/a', value: 1 }],
      [{ op: 'add', value: 1 }],
      [{ op: 'add', path: '/a' }],
      [{ op: 'frobnicate', path: '/a' }],
      [{ op: 'move', path: '/a' }],
      [42],
    ];
    for (const patch of cases) expect(failure(() => applyJsonPatch(pod(), patch)).stage).toBe('decode');
    expect(failure(() => applyJsonPatch({}, new Array(10_001).fill({ op: 'test', path: '', value: {} }))).message).toMatch(/maximum operations/);
  });

  it('refuses operations that do not fit the object (422 material)', () => {
    const cases: unknown[] = [
      [{ op: 'replace', path: '/spec/missing', value: 1 }],
      [{ op: 'remove', path: '/metadata/nope' }],
      [{ op: 'add', path: '/spec/containers/7', value: {} }],
      [{ op: 'add', path: '/spec/containers/x', value: {} }],
      [{ op: 'add', path: 'no-slash', value: 1 }],
      [{ op: 'test', path: '/metadata/name', value: 'other' }],
      [{ op: 'move', from: '/metadata', path: '/metadata/labels/x' }],
      [{ op: 'add', path: '/deep/er/path', value: 1 }],
    ];
    for (const patch of cases) expect({ patch, stage: failure(() => applyJsonPatch(pod(), patch)).stage }).toEqual({ patch, stage: 'apply' });
  });
});

describe('JSON merge patch (RFC 7386)', () => {
  it('merges objects, removes keys set to null, replaces lists and scalars', () => {
    expect(applyMergePatch(pod(), { metadata: { labels: { app: null, tier: 'front' } }, spec: { containers: [{ name: 'only' }] } })).toEqual({
      metadata: { name: 'web', labels: { tier: 'front' } },
      spec: { containers: [{ name: 'only' }] },
    });
    expect(applyMergePatch({ a: 1 }, { a: { b: { c: null, d: 1 } } })).toEqual({ a: { b: { d: 1 } } });
  });

  it('replaces the document with a non-object patch, as the RFC says', () => {
    expect(applyMergePatch({ a: 1 }, [1, 2])).toEqual([1, 2]);
    expect(applyMergePatch({ a: 1 }, 'text')).toBe('text');
  });
});
