import { describe, expect, it } from 'vitest';
import { bookmarkLine, expiredLine, parseList, parseWatchLine } from '../../src/share/watch-event.ts';

const pod = (name: string, resourceVersion: string, namespace = 'default') => ({ kind: 'Pod', apiVersion: 'v1', metadata: { name, namespace, resourceVersion } });

describe('reading watch events', () => {
  it('reads changes, bookmarks and errors', () => {
    expect(parseWatchLine(JSON.stringify({ type: 'ADDED', object: pod('a', '7') }))).toMatchObject({ kind: 'change', type: 'ADDED', resourceVersion: 7, objectKey: 'default/a' });
    expect(parseWatchLine(JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Pod', metadata: { resourceVersion: '9' } } }))).toEqual({ kind: 'bookmark', resourceVersion: 9 });
    expect(parseWatchLine(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410 } }))).toEqual({ kind: 'error', status: { kind: 'Status', code: 410 } });
  });

  it('reads a Table event by its row', () => {
    const table = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: '12' }, rows: [{ cells: ['a'], object: { kind: 'PartialObjectMetadata', metadata: { name: 'a', namespace: 'ns', resourceVersion: '12' } } }] };
    expect(parseWatchLine(JSON.stringify({ type: 'MODIFIED', object: table }))).toMatchObject({ kind: 'change', resourceVersion: 12, objectKey: 'ns/a' });
  });

  it('refuses what a shared watch cannot relay: non-decimal resourceVersions, malformed lines', () => {
    for (const line of [
      '',
      'not json',
      '[]',
      'null',
      '{"type":"ADDED"}',
      '{"type":"WHAT","object":{}}',
      JSON.stringify({ type: 'ADDED', object: pod('a', 'abc-1') }),
      JSON.stringify({ type: 'ADDED', object: pod('a', '-1') }),
      JSON.stringify({ type: 'ADDED', object: { metadata: { resourceVersion: '1' } } }),
      JSON.stringify({ type: 'BOOKMARK', object: { metadata: {} } }),
      JSON.stringify({ type: 'MODIFIED', object: { kind: 'Table', rows: [] } }),
      '{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"1"}}',
    ]) {
      expect(parseWatchLine(line).kind, line).toBe('unreadable');
    }
  });
});

describe('reading lists', () => {
  it('gives the objects as watch events carry them (kind and apiVersion added), keyed by namespace and name', () => {
    const list = parseList(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '30' }, items: [{ metadata: { name: 'a', namespace: 'x', resourceVersion: '3' } }] }));
    expect(list).toEqual({
      resourceVersion: 30,
      objects: new Map([['x/a', { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'a', namespace: 'x', resourceVersion: '3' } }]]),
      bookmarkType: { kind: 'Pod', apiVersion: 'v1' },
    });
  });

  it('turns a Table list into one-row Tables', () => {
    const list = parseList(
      JSON.stringify({ kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: '30' }, columnDefinitions: [{ name: 'Name' }], rows: [{ cells: ['a'], object: { metadata: { name: 'a', resourceVersion: '4' } } }] }),
    );
    expect(typeof list === 'object' && list.objects.get('/a')).toEqual({
      kind: 'Table',
      apiVersion: 'meta.k8s.io/v1',
      metadata: { resourceVersion: '4' },
      columnDefinitions: [{ name: 'Name' }],
      rows: [{ cells: ['a'], object: { metadata: { name: 'a', resourceVersion: '4' } } }],
    });
  });

  it('says why a body cannot back a shared watch', () => {
    for (const body of ['', 'nope', '{}', '{"metadata":{"resourceVersion":"x"}}', '{"kind":"Pod","metadata":{"resourceVersion":"1"}}', '{"kind":"PodList","metadata":{"resourceVersion":"1"},"items":[1]}', '{"kind":"Table","metadata":{"resourceVersion":"1"}}']) {
      expect(typeof parseList(body), body).toBe('string');
    }
  });
});

describe('lines the proxy writes', () => {
  it('bookmarks and the 410 Expired event, as the API server writes them', () => {
    expect(JSON.parse(bookmarkLine({ kind: 'Pod', apiVersion: 'v1' }, 5, true))).toEqual({
      type: 'BOOKMARK',
      object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: '5', creationTimestamp: null, annotations: { 'k8s.io/initial-events-end': 'true' } } },
    });
    expect((JSON.parse(bookmarkLine({ kind: 'Pod', apiVersion: 'v1' }, 5, false)) as { object: { metadata: Record<string, unknown> } }).object.metadata.annotations).toBeUndefined();
    expect(JSON.parse(expiredLine('3', 9))).toEqual({
      type: 'ERROR',
      object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version: 3 (9)', reason: 'Expired', code: 410 },
    });
    expect(expiredLine('3', 9).endsWith('\n')).toBe(true);
  });
});
