/**
 * The token store (Redis) did not answer: refused connection, closed client, timeout, or an error
 * reply. Requests that need the store fail with it; they succeed again once Redis is back.
 * The message names the cause, never a key or a value.
 */
export class TokenStoreUnavailableError extends Error {
  /** Stable code: switch on it, never on the message. */
  readonly code = 'ERR_TOKEN_STORE_UNAVAILABLE';

  constructor(cause: string, options?: { cause?: unknown }) {
    super(`the token store (Redis) is unavailable: ${cause}`, options);
    this.name = new.target.name;
  }
}
