/**
 * A token store shared by replicas through Redis: {@link redisTokenStore}.
 * @module kube-cluster-proxy/redis
 */
// The public types use Node's (Buffer, node:http): consumers need @types/node.
/// <reference types="node" preserve="true" />
// First, so that an old Node fails with a message naming the version it needs.
import '../node-version.ts';
export { TokenStoreUnavailableError } from '../errors.ts';
export {
  redisTokenStore,
  type RedisCommandClient,
  type RedisTokenStoreOptions,
} from './redis-token-store.ts';
export { UnreadableValueError, type EncryptionSecret } from './value-cipher.ts';
