export { TokenStoreUnavailableError } from '../errors.ts';
export {
  redisTokenStore,
  type RedisCommandClient,
  type RedisTokenStoreOptions,
} from './redis-token-store.ts';
export { UnreadableValueError, type EncryptionSecret } from './value-cipher.ts';
