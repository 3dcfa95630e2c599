import { describe, expect, it } from 'vitest';
import { createReviewCache, type ReviewOutcome } from '../../src/identify/review-cache.ts';

const alice: ReviewOutcome = { kind: 'user', name: 'alice', groups: ['devs'] };

/** A review that counts its calls and answers when told to. */
function controlledReview(outcome: ReviewOutcome) {
  let calls = 0;
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  return {
    review: async () => {
      calls += 1;
      await gate;
      return outcome;
    },
    release: () => release(),
    get calls() {
      return calls;
    },
  };
}

describe('the review cache', () => {
  it('keeps a user until the TTL is over, on the clock it is given', async () => {
    let now = 1_000;
    const cache = createReviewCache({ ttlMs: 60_000, max: 10, now: () => now });
    let calls = 0;
    const review = () => {
      calls += 1;
      return Promise.resolve(alice);
    };
    expect(await cache.lookup('t1', review)).toEqual(alice);
    now += 59_999;
    expect(await cache.lookup('t1', review)).toEqual(alice);
    expect(calls).toBe(1);
    now += 2;
    expect(await cache.lookup('t1', review)).toEqual(alice);
    expect(calls).toBe(2);
  });

  it('sends one review for concurrent lookups of one token, and one per distinct token', async () => {
    const cache = createReviewCache({ ttlMs: 60_000, max: 10 });
    const one = controlledReview(alice);
    const lookups = Array.from({ length: 20 }, () => cache.lookup('same', one.review));
    const other = controlledReview({ kind: 'user', name: 'bob', groups: [] });
    const bob = cache.lookup('other', other.review);
    await new Promise((resolve) => setImmediate(resolve));
    one.release();
    other.release();
    const answers = await Promise.all(lookups);
    expect(answers.every((a) => a === answers[0])).toBe(true);
    expect(answers[0]).toEqual(alice);
    expect(await bob).toMatchObject({ name: 'bob' });
    expect(one.calls).toBe(1);
    expect(other.calls).toBe(1);
  });

  it('never keeps a refused token: the next lookup asks again', async () => {
    const cache = createReviewCache({ ttlMs: 60_000, max: 10 });
    let calls = 0;
    const refused = () => {
      calls += 1;
      return Promise.resolve<ReviewOutcome>({ kind: 'refused' });
    };
    expect(await cache.lookup('bad', refused)).toEqual({ kind: 'refused' });
    expect(await cache.lookup('bad', refused)).toEqual({ kind: 'refused' });
    expect(calls).toBe(2);
    expect(cache.size).toBe(0);
  });

  it('keeps a lasting "unknown" (403, 404), not a passing one, and turns a review that throws into a passing one', async () => {
    const cache = createReviewCache({ ttlMs: 60_000, max: 10 });
    let calls = 0;
    const answer = (outcome: ReviewOutcome) => () => {
      calls += 1;
      return Promise.resolve(outcome);
    };
    await cache.lookup('forbidden', answer({ kind: 'unknown', lasting: true }));
    await cache.lookup('forbidden', answer({ kind: 'unknown', lasting: true }));
    expect(calls).toBe(1);
    await cache.lookup('flaky', answer({ kind: 'unknown', lasting: false }));
    await cache.lookup('flaky', answer({ kind: 'unknown', lasting: false }));
    expect(calls).toBe(3);
    const throwsAtOnce = () => {
      throw new Error('cluster unreachable');
    };
    expect(await cache.lookup('down', throwsAtOnce)).toEqual({ kind: 'unknown', lasting: false });
    expect(await cache.lookup('down', () => Promise.reject(new Error('reset')))).toEqual({ kind: 'unknown', lasting: false });
    // Nothing is left pending after a failure: the next lookup runs its own review.
    expect(await cache.lookup('down', () => Promise.resolve(alice))).toEqual(alice);
  });

  it('stays within its bound, evicting the least recently used', async () => {
    const cache = createReviewCache({ ttlMs: 60_000, max: 100 });
    for (let i = 0; i < 1_000; i += 1) await cache.lookup(`token-${i}`, () => Promise.resolve({ kind: 'user', name: `u${i}`, groups: [] }));
    expect(cache.size).toBe(100);
    let asked = false;
    await cache.lookup('token-0', () => {
      asked = true;
      return Promise.resolve(alice);
    });
    expect(asked).toBe(true);
    asked = false;
    await cache.lookup('token-999', () => {
      asked = true;
      return Promise.resolve(alice);
    });
    expect(asked).toBe(false);
  });

  it('keys by an HMAC with its own key: caches with different keys never share an answer', async () => {
    const a = createReviewCache({ ttlMs: 60_000, max: 10, key: new Uint8Array(32).fill(1) });
    const b = createReviewCache({ ttlMs: 60_000, max: 10, key: new Uint8Array(32).fill(2) });
    await a.lookup('secret-token', () => Promise.resolve(alice));
    let asked = false;
    await b.lookup('secret-token', () => {
      asked = true;
      return Promise.resolve(alice);
    });
    expect(asked).toBe(true);
  });
});
