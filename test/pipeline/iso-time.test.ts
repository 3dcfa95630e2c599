import { describe, expect, it } from 'vitest';
import { isoTime } from '../../src/pipeline/iso-time.ts';

describe('isoTime', () => {
  it('writes what toISOString writes, across seconds, back and forth, fractions dropped', () => {
    const times = [0, 1, 999, 1000, 1764636000123, 1764636000999, 1764636001000, 1764635999999, 1764636000000.7, -1, -1001, 253402300799999];
    for (let i = 0; i < 2000; i++) times.push(1764636000000 + Math.floor(Math.random() * 1e7));
    for (const ms of times) expect(isoTime(ms)).toBe(new Date(Math.floor(ms)).toISOString());
  });

  it('throws for a time no Date can hold, as toISOString does', () => {
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
    expect(() => isoTime(9e15)).toThrow(RangeError);
  });
});
