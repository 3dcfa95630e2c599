/** A held lock; `release()` frees it only if it is still this owner's (it may have expired). */
export interface TokenStoreLock {
  release(): Promise<void>;
}

/**
 * Where credentials with an expiry are cached (`getToken`, exec plugins, OIDC tokens, user
 * sessions). Keys are namespaced by the proxy; values are opaque strings.
 *
 * - Required: `get`, `set`, `delete`.
 * - Recommended: `tryLock`, so that only one of several replicas refreshes a token at a time (with
 *   rotating refresh tokens, two refreshing at once log the user out). Without it, refreshes are
 *   single-flight within each process only.
 *
 * An implementation shared by several replicas (`redisTokenStore`) lets them reuse one another's
 * tokens; the default {@link memoryTokenStore} is private to one process.
 */
export interface TokenStore {
  /** The value stored under `key`, or `undefined` when there is none or it expired. */
  get(key: string): Promise<string | undefined>;
  /**
   * Stores `value` under `key` for `ttlMs` milliseconds (a positive number; `Infinity` keeps it
   * until it is deleted or evicted).
   */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Removes `key`; no error when it is absent. */
  delete(key: string): Promise<void>;
  /**
   * Takes the lock `key` for at most `ttlMs` milliseconds (it expires by itself, so a crashed
   * holder cannot block others for longer), or answers `undefined` when another owner holds it.
   */
  tryLock?(key: string, ttlMs: number): Promise<TokenStoreLock | undefined>;
}
