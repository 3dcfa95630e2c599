import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.ts';
import { resolveShareOptions, SHARE_DEFAULTS } from '../../src/share/share-options.ts';

describe('resolveShareOptions', () => {
  it('is off unless given, part by part', () => {
    expect(resolveShareOptions(undefined)).toEqual({ watches: undefined, discovery: undefined, reads: undefined });
    expect(resolveShareOptions({ discovery: false, reads: false })).toEqual({ watches: undefined, discovery: undefined, reads: undefined });
  });

  it('takes true for the defaults and objects for settings', () => {
    expect(resolveShareOptions({ discovery: true, reads: true })).toEqual({ watches: undefined, discovery: SHARE_DEFAULTS.discovery, reads: SHARE_DEFAULTS.reads });
    expect(resolveShareOptions({ discovery: { ttlMs: 5_000 }, reads: { maxBufferBytes: 1024 } })).toEqual({
      watches: undefined,
      discovery: { ...SHARE_DEFAULTS.discovery, ttlMs: 5_000 },
      reads: { maxBufferBytes: 1024 },
    });
  });

  it('passes watches through untouched, as a boolean or an object', () => {
    const settings = { acrossUsers: 'subject-access-review' };
    expect(resolveShareOptions({ watches: settings }).watches).toBe(settings);
    expect(resolveShareOptions({ watches: true }).watches).toBe(true);
    expect(() => resolveShareOptions({ watches: 'yes' })).toThrow(/share\.watches must be true, false or an object/);
    expect(() => resolveShareOptions({ watches: [] })).toThrow(/share\.watches/);
    expect(() => resolveShareOptions({ watches: null })).toThrow(/share\.watches/);
  });

  it.each([
    [null, /share must be an object/],
    ['all', /share must be an object/],
    [[], /share must be an object/],
    [{ discovry: true }, /unknown option "discovry"/],
    [{ discovery: 'on' }, /share\.discovery must be true, false or an object/],
    [{ discovery: { ttl: 5 } }, /share\.discovery: unknown option "ttl"/],
    [{ discovery: { ttlMs: 0 } }, /share\.discovery\.ttlMs must be a whole number from 1 to 2147483647; got 0/],
    [{ discovery: { ttlMs: 1.5 } }, /share\.discovery\.ttlMs/],
    [{ discovery: { ttlMs: Infinity } }, /share\.discovery\.ttlMs/],
    [{ discovery: { ttlMs: 2 ** 31 } }, /share\.discovery\.ttlMs/],
    [{ discovery: { maxEntries: -1 } }, /share\.discovery\.maxEntries/],
    [{ discovery: { maxBodyBytes: '1MB' } }, /share\.discovery\.maxBodyBytes.*got "1MB"/],
    [{ reads: { maxBufferBytes: 0 } }, /share\.reads\.maxBufferBytes/],
    [{ reads: { maxBuffer: 1 } }, /share\.reads: unknown option "maxBuffer"/],
  ])('refuses %j naming the setting', (value, message) => {
    expect(() => resolveShareOptions(value)).toThrow(InvalidOptionError);
    expect(() => resolveShareOptions(value)).toThrow(message);
  });
});
