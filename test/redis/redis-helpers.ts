import { createClient, type RedisClientOptions } from 'redis';

export type Redis = Awaited<ReturnType<typeof connectRedis>>;

/**
 * A connected client of the official `redis` package, as a host app would create it: with an
 * `'error'` listener, without which a lost connection would end the process. The listener keeps
 * what it saw so that tests can check that an outage was noticed.
 */
export async function connectRedis(url: string, options: Omit<RedisClientOptions, 'url'> = {}) {
  const errors: Error[] = [];
  const client = createClient({ url, ...options });
  client.on('error', (error: Error) => errors.push(error));
  await client.connect();
  return Object.assign(client, { errors });
}

/** 32+ characters, as `encryptionKey` requires. */
export const KEY = 'k'.repeat(16) + 'test-encryption-key';
