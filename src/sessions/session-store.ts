import { createHash } from 'node:crypto';
import { ClusterProxyError, TokenStoreUnavailableError } from '../errors.ts';
import { describeError } from '../redact.ts';
import type { TokenStore } from '../tokens/token-store.ts';

/** Who the session is for, and how long it lives: the same for every provider. */
export interface SessionIdentity {
  sub: string;
  email?: string;
  /** When the session ends (ms), whatever its refreshes. */
  endsAt: number;
}

/** One provider's tokens in a session. */
export interface ProviderTokens {
  idToken?: string;
  accessToken?: string;
  refreshToken?: string;
  /** When the forwarded token expires (ms). */
  expiresAt: number;
  /** When it was obtained (ms): its lifetime bounds the refresh skew. */
  obtainedAt: number;
}

/** The store key of a session: a hash of its cookie's id, so that a copy of the store holds no usable cookie. */
export function sessionKeyOf(id: string): string {
  return `session:${createHash('sha256').update(id).digest('base64url')}`;
}

/** Each provider's tokens under their own key: two providers refreshing at once cannot overwrite each other. */
export function tokensKeyOf(session: string, provider: string): string {
  return `${session}:tokens:${provider}`;
}

/**
 * Sessions in a {@link TokenStore}: an identity record per session and a token record per
 * provider, JSON, each expiring with the session. A store failure becomes a `503`; a record that
 * does not parse is reported and treated as absent.
 */
export function createSessionStore(options: {
  store: TokenStore;
  providerNames: readonly string[];
  logger: Pick<Console, 'error'>;
  now: () => number;
}) {
  const { store, logger, now } = options;

  async function storeCall<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof ClusterProxyError) throw error;
      throw new TokenStoreUnavailableError(`the session store is unavailable (${what}): ${describeError(error)}; try again shortly`, { cause: error });
    }
  }

  async function read<T extends object>(key: string, valid: (value: T) => boolean): Promise<T | undefined> {
    const raw = await storeCall('read', () => store.get(key));
    if (raw === undefined) return undefined;
    try {
      const value = JSON.parse(raw) as T;
      if (typeof value === 'object' && value !== null && valid(value)) return value;
    } catch {
      // Reported below.
    }
    logger.error('kube-cluster-proxy: a session entry in the store is unreadable and was ignored');
    return undefined;
  }

  async function write(key: string, value: object, endsAt: number): Promise<void> {
    const ttl = endsAt - now();
    if (ttl <= 0) return storeCall('delete', () => store.delete(key));
    await storeCall('write', () => store.set(key, JSON.stringify(value), ttl));
  }

  return {
    readIdentity(session: string): Promise<SessionIdentity | undefined> {
      return read<SessionIdentity>(session, (v) => typeof v.sub === 'string' && typeof v.endsAt === 'number');
    },
    readTokens(session: string, provider: string): Promise<ProviderTokens | undefined> {
      return read<ProviderTokens>(tokensKeyOf(session, provider), (v) => typeof v.expiresAt === 'number' && typeof v.obtainedAt === 'number');
    },
    writeIdentity(session: string, identity: SessionIdentity): Promise<void> {
      return write(session, identity, identity.endsAt);
    },
    /** Stored until the session ends: tokens never outlive it. */
    writeTokens(session: string, provider: string, tokens: ProviderTokens, endsAt: number): Promise<void> {
      return write(tokensKeyOf(session, provider), tokens, endsAt);
    },
    /** Removes the session and every provider's tokens. */
    async deleteSession(session: string): Promise<void> {
      await storeCall('delete', () => store.delete(session));
      await Promise.all(options.providerNames.map((name) => storeCall('delete', () => store.delete(tokensKeyOf(session, name)))));
    },
    /** Whether the session still exists (another replica may have ended it); store failures reject. */
    async exists(session: string): Promise<boolean> {
      return (await store.get(session)) !== undefined;
    },
    /**
     * Marks a login state as used, for `ttlMs`; `false` when it already was: each callback is
     * accepted once.
     */
    async claimLoginState(jti: string, ttlMs: number): Promise<boolean> {
      const usedKey = `oauth-state-used:${jti}`;
      if ((await storeCall('read', () => store.get(usedKey))) !== undefined) return false;
      await storeCall('write', () => store.set(usedKey, '1', ttlMs));
      return true;
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
