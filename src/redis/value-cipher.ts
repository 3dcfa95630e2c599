import { CompactEncrypt, compactDecrypt } from 'jose';
import { deriveKey } from '../tokens/derive-key.ts';

/** A secret from which the encryption key is derived: a string of 32+ characters or 32+ bytes. */
export type EncryptionSecret = string | Uint8Array;

/** Fewest characters or bytes accepted in an {@link EncryptionSecret}. */
export const MIN_SECRET_LENGTH = 32;

interface DerivedKey {
  kid: string;
  key: Uint8Array;
}

function storeKey(secret: EncryptionSecret): DerivedKey {
  return {
    // A separate derivation: the kid names the key without revealing anything about it.
    kid: Buffer.from(deriveKey(secret, 'kube-cluster-proxy token store key id', { length: 8 })).toString('base64url'),
    key: deriveKey(secret, 'kube-cluster-proxy token store A256GCM'),
  };
}

/**
 * A value in the token store could not be read, so it was treated as absent: written with a key
 * that is no longer configured, altered, copied from another key, or not written by this store.
 * Reported to `onError`; the message says why, never what the value or the key is.
 */
export class UnreadableValueError extends Error {
  /** Stable code: switch on it, never on the message. */
  readonly code = 'ERR_UNREADABLE_VALUE';

  constructor(reason: string, options?: { cause?: unknown }) {
    super(`a value in the token store was ignored (treated as absent): ${reason}`, options);
    this.name = new.target.name;
  }
}

/**
 * Seals values as JWE (`dir`, `A256GCM`) with a key derived from the first secret; opens values
 * sealed with any of them, so that a key can be rotated without logging everyone out. The storage
 * key is sealed with the value: a value copied under another key is refused.
 */
export function createValueCipher(secrets: readonly EncryptionSecret[]) {
  const keys = secrets.map(storeKey);
  const current = keys[0];
  if (!current) throw new RangeError('at least one secret is required');
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  return {
    seal(storageKey: string, value: string): Promise<string> {
      return new CompactEncrypt(encoder.encode(JSON.stringify({ k: storageKey, v: value })))
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: current.kid })
        .encrypt(current.key);
    },

    /** @throws {UnreadableValueError} when `sealed` is not a value this cipher sealed for `storageKey`. */
    async open(storageKey: string, sealed: string): Promise<string> {
      let plaintext: Uint8Array;
      try {
        ({ plaintext } = await compactDecrypt(
          sealed,
          ({ kid }) => {
            const found = keys.find((candidate) => candidate.kid === kid);
            if (!found) throw new UnreadableValueError('it was encrypted with a key that is not among encryptionKey');
            return found.key;
          },
          { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] },
        ));
      } catch (error) {
        if (error instanceof UnreadableValueError) throw error;
        throw new UnreadableValueError('it is not a JWE this store wrote, or it was altered', { cause: error });
      }
      // Authenticated, so written by seal() with one of these keys.
      const { k, v } = JSON.parse(decoder.decode(plaintext)) as { k: string; v: string };
      if (k !== storageKey) throw new UnreadableValueError('it was written under another key');
      return v;
    },
  };
}

export type ValueCipher = ReturnType<typeof createValueCipher>;
