import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.ts';
import { resolveLimitOptions } from '../../src/limits/limit-options.ts';

describe('resolveLimitOptions', () => {
  it('is unlimited unless a limit is set', () => {
    expect(resolveLimitOptions(undefined)).toBeUndefined();
    expect(resolveLimitOptions({})).toBeUndefined();
    expect(resolveLimitOptions({ requestsPerUser: 5 })).toEqual({ requestsPerUser: 5, watchesPerUser: Infinity, requestsPerCluster: Infinity });
    expect(resolveLimitOptions({ requestsPerUser: 1, watchesPerUser: 2, requestsPerCluster: 3 })).toEqual({ requestsPerUser: 1, watchesPerUser: 2, requestsPerCluster: 3 });
  });

  it.each([
    [null, /limits must be an object/],
    [5, /limits must be an object/],
    [{ requestPerUser: 5 }, /limits: unknown option "requestPerUser" \(known: requestsPerUser/],
    [{ requestsPerUser: 0 }, /limits\.requestsPerUser must be a whole number of requests from 1 to 1000000000; got 0/],
    [{ watchesPerUser: 2.5 }, /limits\.watchesPerUser/],
    [{ requestsPerCluster: Infinity }, /limits\.requestsPerCluster/],
    [{ requestsPerCluster: '10' }, /limits\.requestsPerCluster.*got "10"/],
    [{ requestsPerUser: NaN }, /limits\.requestsPerUser/],
  ])('refuses %j naming the limit', (value, message) => {
    expect(() => resolveLimitOptions(value)).toThrow(InvalidOptionError);
    expect(() => resolveLimitOptions(value)).toThrow(message);
  });
});
