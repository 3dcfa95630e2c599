/**
 * Where credentials with an expiry are cached: tokens from `getToken` today, exec-plugin and OIDC
 * tokens later. Keys are namespaced by the proxy; values are opaque strings.
 *
 * All three methods are required. An implementation shared by several replicas (Redis) lets them
 * reuse one another's tokens; the default {@link memoryTokenStore} is private to one process.
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
}
