import { randomBytes } from 'node:crypto';
import { InvalidOptionError, TokenStoreUnavailableError } from '../errors.ts';
import { checkKnownOptions } from '../known-options.ts';
import type { TokenStore, TokenStoreLock } from '../tokens/token-store.ts';
import {
  createValueCipher,
  MIN_SECRET_LENGTH,
  type EncryptionSecret,
  type ValueCipher,
} from './value-cipher.ts';

/**
 * What the store needs of a Redis client: raw commands. A connected client of the official `redis`
 * package (v5 or v6) is one as it is. For ioredis, pass an adapter:
 *
 * ```ts
 * const client = { sendCommand: (args: string[]) => ioredis.call(args[0]!, ...args.slice(1)) };
 * ```
 */
export interface RedisCommandClient {
  /**
   * Runs one command, e.g. `['SET', key, value, 'PX', '60000']`, and answers Redis's reply
   * (`null` for a nil reply). `abortSignal` fires when the store gave up on the command: a client
   * that honours it (the official one does) drops it if it is still queued.
   */
  sendCommand(args: string[], options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  /**
   * Whether the client is connected, when it tells (the official one does): a command that times
   * out while it is `false` is reported as a lost connection rather than a slow Redis.
   */
  readonly isReady?: boolean;
}

/** Options of {@link redisTokenStore}. */
export interface RedisTokenStoreOptions {
  /**
   * The Redis connection, owned by the caller: connect it before use, close it after the proxy.
   * Listen to its `'error'` event (`client.on('error', log)`): the official client emits one on
   * every lost connection, and an `'error'` event without a listener ends the process. Required.
   *
   * The official client queues commands while it reconnects, so a request waits up to `timeoutMs`
   * during an outage; create it with `disableOfflineQueue: true` to fail at once instead.
   */
  client: RedisCommandClient;
  /**
   * The secret from which the AES-256-GCM key is derived (HKDF-SHA256): a random string of at
   * least 32 characters (`openssl rand -base64 32`) or at least 32 bytes, the same on every
   * replica. Values are stored as JWE (`dir`, `A256GCM`), each bound to its key.
   *
   * To rotate, pass a list: the first secret encrypts, every one of them decrypts; drop the old
   * one once the values it wrote have expired. Required unless `encryption` is `false`.
   */
  encryptionKey?: EncryptionSecret | readonly EncryptionSecret[];
  /**
   * `false` stores values IN PLAIN TEXT: tokens and refresh tokens readable by anyone who can read
   * Redis, its persistence files, replicas and backups. Only for a Redis that is as well guarded
   * as the tokens themselves. Default `true`.
   */
  encryption?: boolean;
  /**
   * Put before every Redis key: values are at `<prefix>value:<key>`, locks at `<prefix>lock:<key>`.
   * Give each application sharing a Redis its own. Default `'kcp:'`.
   */
  prefix?: string;
  /**
   * How long one command may take, in milliseconds, before the operation fails with
   * {@link TokenStoreUnavailableError}, so that a hung Redis fails requests instead of hanging
   * them. Default `2_000`.
   */
  timeoutMs?: number;
  /**
   * Told about problems that do not fail an operation: a stored value that could not be read
   * (an `UnreadableValueError`, treated as absent) and a lock that could not be released (it
   * expires by itself). Errors never contain keys or values. Default: `console.warn`.
   */
  onError?: (error: Error) => void;
}

const DEFAULTS = {
  encryption: true,
  prefix: 'kcp:',
  timeoutMs: 2_000,
  onError: (error: Error) => console.warn(`kube-cluster-proxy/redis: ${error.message}`),
} satisfies Partial<RedisTokenStoreOptions>;

// Deletes the lock only while it still holds this owner's token: a holder whose lock expired must
// not free the lock that another owner has taken since.
const RELEASE_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

function invalid(message: string): never {
  throw new InvalidOptionError(`redisTokenStore: ${message}`);
}

function isSecret(secret: unknown): secret is EncryptionSecret {
  if (typeof secret === 'string') return secret.length >= MIN_SECRET_LENGTH;
  return secret instanceof Uint8Array && secret.byteLength >= MIN_SECRET_LENGTH;
}

function cipherOf(options: RedisTokenStoreOptions): ValueCipher | undefined {
  const { encryptionKey } = options;
  const encryption = options.encryption ?? DEFAULTS.encryption;
  if (typeof encryption !== 'boolean') invalid('encryption must be true or false');
  if (!encryption) {
    if (encryptionKey !== undefined) invalid('encryptionKey is given but encryption is false; remove one of them');
    return undefined;
  }
  const rule = `a string of at least ${MIN_SECRET_LENGTH} characters or at least ${MIN_SECRET_LENGTH} bytes`;
  if (encryptionKey === undefined) {
    invalid(`encryptionKey is required (${rule}, the same on every replica), unless encryption is false`);
  }
  const list = Array.isArray(encryptionKey);
  const secrets = (list ? encryptionKey : [encryptionKey]) as readonly unknown[];
  if (secrets.length === 0) invalid('encryptionKey must not be an empty list');
  secrets.forEach((secret, i) => {
    if (!isSecret(secret)) invalid(`encryptionKey${list ? `[${i}]` : ''} must be ${rule}`);
  });
  return createValueCipher(secrets as EncryptionSecret[]);
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // Node's connection errors may have an empty message (AggregateError) but always a code.
  return error.message || (error as { code?: string }).code || error.name;
}

/**
 * A {@link TokenStore} in Redis, shared by every replica using the same Redis and `prefix`: tokens
 * survive restarts, one replica reuses the tokens another fetched, and `tryLock` lets exactly one
 * replica refresh a token at a time.
 *
 * - Entries expire in Redis after their TTL (`SET ... PX`).
 * - Values are encrypted at rest and bound to their key (see `encryptionKey`); a value that cannot
 *   be read counts as absent and is reported to `onError`.
 * - Locks are Redis keys with an owner token and an expiry: a crashed holder's lock expires by
 *   itself, and a release frees the lock only if it is still this owner's.
 * - When Redis is unreachable or does not answer within `timeoutMs`, operations reject with
 *   {@link TokenStoreUnavailableError}; they work again as soon as the client has reconnected.
 *
 * @throws {InvalidOptionError} when an option is invalid.
 */
export function redisTokenStore(options: RedisTokenStoreOptions): TokenStore {
  if (typeof options !== 'object' || options === null) invalid('options must be an object with a client');
  checkKnownOptions(options, ['client', 'encryptionKey', 'encryption', 'prefix', 'timeoutMs', 'onError'], 'redisTokenStore');
  const { client } = options;
  if (typeof client?.sendCommand !== 'function') {
    invalid('client must have sendCommand(args): a connected client of the `redis` package, or an adapter (see RedisCommandClient)');
  }
  const cipher = cipherOf(options);
  const prefix = options.prefix ?? DEFAULTS.prefix;
  if (typeof prefix !== 'string') invalid('prefix must be a string');
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  if (!(typeof timeoutMs === 'number' && timeoutMs > 0 && Number.isFinite(timeoutMs))) {
    invalid(`timeoutMs must be a positive number of milliseconds; got ${String(timeoutMs)}`);
  }
  const onError = options.onError ?? DEFAULTS.onError;
  if (typeof onError !== 'function') invalid('onError must be a function');

  const valueKey = (key: string) => `${prefix}value:${key}`;
  const lockKey = (key: string) => `${prefix}lock:${key}`;

  const unavailable = (cause: string, error?: unknown) =>
    new TokenStoreUnavailableError(`the token store (Redis) is unavailable: ${cause}`, { cause: error });

  async function send(args: string[]): Promise<unknown> {
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        const cause = client.isReady === false ? 'not connected (the client is reconnecting)' : 'no answer';
        reject(unavailable(`${cause} within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      // Through then(): a client that throws instead of rejecting still gets the same treatment.
      const reply = Promise.resolve().then(() => client.sendCommand(args, { abortSignal: abort.signal }));
      return await Promise.race([reply, timedOut]);
    } catch (error) {
      if (error instanceof TokenStoreUnavailableError) throw error;
      throw unavailable(describe(error), error);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async get(key) {
      const storageKey = valueKey(key);
      const reply = await send(['GET', storageKey]);
      if (reply === null || reply === undefined) return undefined;
      // GET answers a bulk string, which some client configurations hand over as a Buffer.
      const stored = Buffer.isBuffer(reply) ? reply.toString() : (reply as string);
      if (!cipher) return stored;
      try {
        return await cipher.open(storageKey, stored);
      } catch (error) {
        onError(error as Error);
        return undefined;
      }
    },

    async set(key, value, ttlMs) {
      if (!(ttlMs > 0)) throw new RangeError(`ttlMs must be positive; got ${ttlMs}`);
      const storageKey = valueKey(key);
      const stored = cipher ? await cipher.seal(storageKey, value) : value;
      await send(
        Number.isFinite(ttlMs) ? ['SET', storageKey, stored, 'PX', String(Math.ceil(ttlMs))] : ['SET', storageKey, stored],
      );
    },

    async delete(key) {
      await send(['DEL', valueKey(key)]);
    },

    async tryLock(key, ttlMs): Promise<TokenStoreLock | undefined> {
      // An everlasting lock would outlive a crashed holder.
      if (!(ttlMs > 0 && Number.isFinite(ttlMs))) throw new RangeError(`ttlMs of a lock must be positive and finite; got ${ttlMs}`);
      const storageKey = lockKey(key);
      const owner = randomBytes(18).toString('base64url');
      const reply = await send(['SET', storageKey, owner, 'NX', 'PX', String(Math.ceil(ttlMs))]);
      // NX answers nil when another owner holds the lock.
      if (reply === null || reply === undefined) return undefined;
      return {
        async release() {
          try {
            await send(['EVAL', RELEASE_SCRIPT, '1', storageKey, owner]);
          } catch (error) {
            // The holder's work is done; the lock expires within ttlMs anyway.
            onError(error as TokenStoreUnavailableError);
          }
        },
      };
    },
  };
}
