import { hkdfSync } from 'node:crypto';

/** Options of {@link deriveKey}. */
export interface DeriveKeyOptions {
  /** HKDF salt. Default: none (empty). */
  salt?: string;
  /** Length of the key, in bytes. Default `32` (a 256-bit key). */
  length?: number;
}

/**
 * A key for one purpose (`info`), derived from a configured secret with HKDF-SHA-256, so that one
 * secret serves several purposes without one key being usable for another. The derivation is part
 * of the stored data's format: changing `info`, `salt` or the length of a purpose in use makes
 * what was sealed before unreadable (sessions lost, login states refused).
 */
export function deriveKey(secret: string | Uint8Array, info: string, options: DeriveKeyOptions = {}): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, options.salt ?? '', info, options.length ?? 32));
}
