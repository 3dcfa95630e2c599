import { createHmac, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/**
 * What the cluster said about a user token:
 * - `'user'`: who the token is;
 * - `'refused'`: the token did not authenticate (`401`);
 * - `'unknown'`: the review could not tell (no permission to create reviews, an old cluster without
 *   the API, the cluster unreachable). `lasting` when asking again within the TTL would give the
 *   same answer (`403`, `404`), so that the answer is kept rather than asked for on every request.
 */
export type ReviewOutcome =
  | { readonly kind: 'user'; readonly name: string; readonly groups: readonly string[] }
  | { readonly kind: 'refused' }
  | { readonly kind: 'unknown'; readonly lasting: boolean };

/** Options of {@link createReviewCache}. */
export interface ReviewCacheOptions {
  /** How long an answer is kept, in milliseconds. */
  ttlMs: number;
  /** Most answers kept; the least recently used goes beyond it. */
  max: number;
  /** The HMAC key tokens are hashed with. Default: 32 random bytes. */
  key?: Uint8Array;
  /** Clock in milliseconds, for tests. Default `performance.now`. */
  now?: () => number;
}

/** Answers of the cluster about tokens, by a keyed hash of the token (never the token itself). */
export interface ReviewCache {
  /**
   * The answer about `token`: a kept one, the one under way for the same token (one review for any
   * number of concurrent requests), or the one `review` gives. A review that throws counts as an
   * `'unknown'` answer that is not kept. A refused token is never kept.
   */
  lookup(token: string, review: () => Promise<ReviewOutcome>): Promise<ReviewOutcome>;
  /** How many answers are kept. */
  readonly size: number;
}

const UNKNOWN_FOR_NOW: ReviewOutcome = { kind: 'unknown', lasting: false };

const kept = (outcome: ReviewOutcome) => outcome.kind === 'user' || (outcome.kind === 'unknown' && outcome.lasting);

/**
 * A bounded, expiring, single-flight cache of token reviews. The keys are HMACs with a key of the
 * proxy's own, so that neither a token nor a hash a client could compute (and so replay or look up)
 * is ever kept.
 */
export function createReviewCache(options: ReviewCacheOptions): ReviewCache {
  const key = options.key ?? randomBytes(32);
  const answers = new LRUCache<string, ReviewOutcome>({
    max: options.max,
    ttl: options.ttlMs,
    // Expiry is checked against the clock on every read: a cached "now" would serve a stale user.
    ttlResolution: 0,
    ...(options.now ? { perf: { now: options.now } } : {}),
  });
  const pending = new Map<string, Promise<ReviewOutcome>>();

  return {
    lookup(token, review) {
      const id = createHmac('sha256', key).update(token).digest('base64url');
      const known = answers.get(id);
      if (known) return Promise.resolve(known);
      const underWay = pending.get(id);
      if (underWay) return underWay;
      // Called a tick later, so that even a review that throws at once is settled after it was registered.
      const started = Promise.resolve()
        .then(review)
        .then(
          (outcome) => {
            if (kept(outcome)) answers.set(id, outcome);
            return outcome;
          },
          () => UNKNOWN_FOR_NOW,
        )
        .finally(() => pending.delete(id));
      pending.set(id, started);
      return started;
    },
    get size() {
      return answers.size;
    },
  };
}
