import { describe, expect, it } from 'vitest';
import { parseBody, TestClientError } from '../../src/testing/client-answer.ts';

describe('parseBody', () => {
  it('parses JSON content types, including +json ones', () => {
    expect(parseBody('application/json', '{"a":1}')).toEqual({ a: 1 });
    expect(parseBody('application/merge-patch+json; charset=utf-8', '[1]')).toEqual([1]);
  });

  it('keeps text for other content types, a missing one, an empty body and JSON that does not parse', () => {
    expect(parseBody('text/plain', '{"a":1}')).toBe('{"a":1}');
    expect(parseBody(undefined, '{"a":1}')).toBe('{"a":1}');
    expect(parseBody('application/json', '')).toBe('');
    expect(parseBody('application/json', '{"a":')).toBe('{"a":');
    expect(parseBody('application/jsonp', '{"a":1}')).toBe('{"a":1}');
  });
});

describe('TestClientError', () => {
  it('says what was refused, with the Status reason and message', () => {
    const error = new TestClientError('the watch /api/v1/pods', 403, {}, { kind: 'Status', reason: 'Forbidden', message: 'pods is forbidden', code: 403 });
    expect(error.message).toBe('the watch /api/v1/pods was answered 403 Forbidden: pods is forbidden');
    expect(error).toMatchObject({ name: 'TestClientError', code: 403, reason: 'Forbidden' });
  });

  it('names the proxy error code when the proxy made the answer', () => {
    const status = { kind: 'Status', reason: 'NotFound', message: 'cluster "x" not found' };
    const error = new TestClientError('GET /clusters/x', 404, { 'x-kube-cluster-proxy-error': 'ERR_CLUSTER_NOT_FOUND' }, status);
    expect(error.message).toBe('GET /clusters/x was answered 404 NotFound: cluster "x" not found (ERR_CLUSTER_NOT_FOUND, made by the proxy)');
  });

  it('quotes a body that is not a Status, at most 200 characters of it', () => {
    expect(new TestClientError('x', 502, {}, 'Bad Gateway').message).toBe('x was answered 502: Bad Gateway');
    expect(new TestClientError('x', 500, {}, '').message).toBe('x was answered 500: no message');
    expect(new TestClientError('x', 500, {}, 'y'.repeat(1000)).message.length).toBeLessThan(250);
    expect(new TestClientError('x', 500, {}, { kind: 'Other', message: 'no' }).reason).toBeUndefined();
  });
});
