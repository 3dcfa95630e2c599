import type { CloseReason } from '../hooks.ts';
import type { SessionConnection } from './session-token-source.ts';

/**
 * Connections (exec, logs, watches, upgraded or HTTP) tied to their session. A logout on this
 * replica ends them at once; on another replica, the session disappears from the shared store,
 * which a periodic check notices. Either way the proxy reports the reason `'logout'`.
 * `maxAgeMs` bounds how long any of them may live (reported as `'lifetime'`).
 */
export function createConnectionTracker(options: {
  exists: (sessionKey: string) => Promise<boolean>;
  checkIntervalMs: number;
  maxAgeMs: number | undefined;
  onError: (error: unknown) => void;
}) {
  const bySession = new Map<string, Set<SessionConnection>>();
  let timer: NodeJS.Timeout | undefined;
  let checking = false;

  async function check(): Promise<void> {
    if (checking) return;
    checking = true;
    try {
      for (const key of [...bySession.keys()]) {
        let alive: boolean;
        try {
          alive = await options.exists(key);
        } catch (error) {
          // The store being unreachable is not a logout: connections stay until it answers.
          options.onError(error);
          continue;
        }
        if (!alive) endSession(key, 'logout');
      }
    } finally {
      checking = false;
    }
  }

  function endSession(key: string, reason: CloseReason): void {
    const connections = bySession.get(key);
    bySession.delete(key);
    for (const connection of connections ?? []) connection.end(reason);
    if (bySession.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  }

  return {
    track(sessionKey: string, connection: SessionConnection): void {
      const connections = bySession.get(sessionKey) ?? new Set();
      connections.add(connection);
      bySession.set(sessionKey, connections);
      const age = options.maxAgeMs === undefined ? undefined : setTimeout(() => connection.end('lifetime'), options.maxAgeMs).unref();
      connection.onClose(() => {
        clearTimeout(age);
        connections.delete(connection);
        if (connections.size === 0 && bySession.get(sessionKey) === connections) endSession(sessionKey, 'logout');
      });
      timer ??= setInterval(() => void check(), options.checkIntervalMs).unref();
    },
    /** Ends the connections of a session that ended here (a logout, or the provider refusing its refresh). */
    closeSession: (key: string): void => endSession(key, 'logout'),
    /** Ends every tracked connection: the session component is shutting down. */
    close(): void {
      for (const key of [...bySession.keys()]) endSession(key, 'shutdown');
    },
  };
}
