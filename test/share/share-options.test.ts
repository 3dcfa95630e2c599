import { describe, expect, it } from 'vitest';
import { createClusterProxy } from '../../src/create-cluster-proxy.ts';
import { InvalidOptionError } from '../../src/errors.ts';
import { resolveShareOptions, SHARE_DEFAULTS } from '../../src/share/share-options.ts';

const OFF = { watches: undefined, discovery: undefined, reads: undefined };

describe('the share option', () => {
  it('is off unless given, part by part', () => {
    expect(resolveShareOptions(undefined)).toEqual(OFF);
    expect(resolveShareOptions({})).toEqual(OFF);
    expect(resolveShareOptions({ watches: false, discovery: false, reads: false })).toEqual(OFF);
  });

  it('takes true for the defaults and objects for settings', () => {
    expect(resolveShareOptions({ watches: true, discovery: true, reads: true })).toEqual(SHARE_DEFAULTS);
    expect(resolveShareOptions({ watches: { lingerMs: 0, windowEvents: 5 } }).watches).toEqual({ ...SHARE_DEFAULTS.watches, lingerMs: 0, windowEvents: 5 });
    expect(resolveShareOptions({ discovery: { ttlMs: 5_000 }, reads: { maxBufferBytes: 1024 } })).toEqual({
      watches: undefined,
      discovery: { ...SHARE_DEFAULTS.discovery, ttlMs: 5_000 },
      reads: { maxBufferBytes: 1024 },
    });
  });

  it.each([
    [null, /^share must be an object/],
    [5, /^share must be an object/],
    ['all', /^share must be an object/],
    [[], /^share must be an object/],
    [{ watch: true }, /share: unknown option "watch"/],
    [{ discovry: true }, /unknown option "discovry"/],
    [{ watches: 'yes' }, /^share\.watches must be true, false or an object/],
    [{ watches: [] }, /^share\.watches must be true, false or an object/],
    [{ watches: null }, /^share\.watches must be true, false or an object/],
    [{ watches: { lingerms: 5 } }, /share\.watches: unknown option "lingerms"; did you mean "lingerMs"/],
    [{ watches: { lingerMs: -1 } }, /^share\.watches\.lingerMs must be a whole number of milliseconds from 0/],
    [{ watches: { windowEvents: 0 } }, /^share\.watches\.windowEvents must be a whole number of events from 1/],
    [{ watches: { windowBytes: 1.5 } }, /^share\.watches\.windowBytes must be/],
    [{ watches: { maxQueuedBytes: Number.POSITIVE_INFINITY } }, /^share\.watches\.maxQueuedBytes must be/],
    [{ discovery: 'on' }, /share\.discovery must be true, false or an object/],
    [{ discovery: { ttl: 5 } }, /share\.discovery: unknown option "ttl"/],
    [{ discovery: { ttlMs: 0 } }, /share\.discovery\.ttlMs must be a whole number of milliseconds from 1 to 2147483647; got 0/],
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

  it('is validated at construction', () => {
    expect(() => createClusterProxy({ clusters: [], share: { watches: { lingerMs: -1 } } })).toThrow(/share\.watches\.lingerMs/);
  });
});
