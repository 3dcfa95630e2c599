import { describe, expect, it } from 'vitest';
import { TooManyRequestsError } from '../../src/errors.ts';
import { createInFlightLimits, isStream } from '../../src/limits/in-flight-limits.ts';
import { testExchange } from '../helpers/exchange.ts';

const short = (cluster = 'prod') => testExchange({ cluster });
const watch = (cluster = 'prod') => testExchange({ cluster, path: '/api/v1/pods?watch=1', streaming: true });
const exec = () => testExchange({ path: '/api/v1/namespaces/default/pods/web/exec', upgrade: true });
const limits = (set: Partial<Record<'requestsPerUser' | 'watchesPerUser' | 'requestsPerCluster', number>>) =>
  createInFlightLimits({ requestsPerUser: Infinity, watchesPerUser: Infinity, requestsPerCluster: Infinity, ...set });

function refusal(run: () => unknown): TooManyRequestsError {
  try {
    run();
  } catch (error) {
    if (error instanceof TooManyRequestsError) return error;
    throw error;
  }
  throw new Error('not refused');
}

describe('in-flight limits', () => {
  it('refuses the request over requestsPerUser with 429 and Retry-After, per user and cluster', () => {
    const l = limits({ requestsPerUser: 2 });
    l.acquire(short(), '10.0.0.1');
    l.acquire(short(), '10.0.0.1');
    const error = refusal(() => l.acquire(short(), '10.0.0.1'));
    expect(error.statusCode).toBe(429);
    expect(error.code).toBe('ERR_TOO_MANY_REQUESTS');
    expect(error.headers['retry-after']).toBe('1');
    expect(error.message).toMatch(/limits\.requestsPerUser.*cluster "prod"/);
    expect(() => l.acquire(short(), '10.0.0.2')).not.toThrow();
    expect(() => l.acquire(short('staging'), '10.0.0.1')).not.toThrow();
  });

  it('counts requestsPerCluster over all users', () => {
    const l = limits({ requestsPerCluster: 2 });
    l.acquire(short(), 'a');
    l.acquire(short(), 'b');
    expect(refusal(() => l.acquire(short(), 'c')).message).toMatch(/limits\.requestsPerCluster/);
    expect(() => l.acquire(short('staging'), 'c')).not.toThrow();
  });

  it('counts watches and upgrades apart from short requests, over all clusters', () => {
    const l = limits({ requestsPerUser: 1, requestsPerCluster: 1, watchesPerUser: 2 });
    l.acquire(watch(), 'a');
    l.acquire(exec(), 'a');
    expect(refusal(() => l.acquire(watch('staging'), 'a')).message).toMatch(/limits\.watchesPerUser/);
    // The streams did not eat the short budget.
    expect(() => l.acquire(short(), 'a')).not.toThrow();
    expect(() => l.acquire(watch(), 'b')).not.toThrow();
  });

  it('counts a refused request for nothing', () => {
    const l = limits({ requestsPerUser: 1, requestsPerCluster: 2 });
    l.acquire(short(), 'a');
    refusal(() => l.acquire(short(), 'a'));
    refusal(() => l.acquire(short(), 'a'));
    l.acquire(short(), 'b');
    expect(refusal(() => l.acquire(short(), 'c')).message).toMatch(/requestsPerCluster/);
  });

  it('releases exactly once, however often release is called', () => {
    const l = limits({ requestsPerUser: 2 });
    const first = l.acquire(short(), 'a');
    l.acquire(short(), 'a');
    first();
    first();
    first();
    l.acquire(short(), 'a');
    // Had the three calls released three times, this would be allowed.
    refusal(() => l.acquire(short(), 'a'));
  });

  it('tells streams from short requests', () => {
    expect([isStream(short()), isStream(watch()), isStream(exec())]).toEqual([false, true, true]);
  });
});
