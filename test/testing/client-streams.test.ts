import { describe, expect, it } from 'vitest';
import { parseWatchEvent } from '../../src/testing/client-streams.ts';

describe('parseWatchEvent', () => {
  it('parses a { type, object } line', () => {
    expect(parseWatchEvent('{"type":"MODIFIED","object":{"kind":"Pod"}}')).toEqual({ type: 'MODIFIED', object: { kind: 'Pod' } });
  });

  it.each([
    ['not JSON', '{"type":', 'is not JSON: {"type":'],
    ['null', 'null', 'is not a { type, object } event: null'],
    ['no type', '{"object":{}}', 'is not a { type, object } event'],
    ['a type that is not a string', '{"type":1,"object":{}}', 'is not a { type, object } event'],
    ['no object', '{"type":"ADDED"}', 'is not a { type, object } event'],
    ['an object that is a string', '{"type":"ADDED","object":"pod"}', 'is not a { type, object } event'],
  ])('refuses %s, quoting the line', (_name, line, message) => {
    expect(() => parseWatchEvent(line)).toThrow(`watch: the server sent a line that ${message}`);
  });

  it('quotes at most 200 characters of a long garbled line', () => {
    const error = (() => {
      try {
        parseWatchEvent('x'.repeat(10_000));
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error?.message.length).toBeLessThan(300);
  });
});
