import { describe, expect, it } from 'vitest';
import { eventLine, parseResize } from '../../src/recording/asciicast.ts';

describe('parseResize', () => {
  it('reads the channel protocol size', () => {
    expect(parseResize('{"Width":120,"Height":40}')).toEqual({ width: 120, height: 40 });
  });
  it.each(['', 'null', '[]', '{}', '{"Width":0,"Height":3}', '{"Width":-1,"Height":3}', '{"Width":1.5,"Height":3}', '{"Width":"80","Height":24}', '{"Width":1e300,"Height":2}', '{', '"x"'])(
    'refuses %j',
    (text) => {
      expect(parseResize(text)).toBeUndefined();
    },
  );
});

describe('eventLine', () => {
  it('writes seconds with microseconds and the data as a JSON string, one line', () => {
    expect(eventLine(1500.25, 'o', 'a"\n\u0000')).toBe('[1.500250,"o","a\\"\\n\\u0000"]\n');
    expect(JSON.parse(eventLine(-5, 'i', 'x'))).toEqual([0, 'i', 'x']);
  });
});
