import type { Duplex } from 'node:stream';

/**
 * Upgraded connections (exec, logs, watch over WebSocket) tied to their session. A logout on this
 * replica closes them at once; on another replica, the session disappears from the shared store,
 * which a periodic check notices. `maxAgeMs` bounds how long any of them may live.
 */
export function createConnectionTracker(options: {
  exists: (sessionKey: string) => Promise<boolean>;
  checkIntervalMs: number;
  maxAgeMs: number | undefined;
  onError: (error: unknown) => void;
}) {
  const bySession = new Map<string, Set<Duplex>>();
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
        if (!alive) closeSession(key);
      }
    } finally {
      checking = false;
    }
  }

  function closeSession(key: string): void {
    for (const socket of bySession.get(key) ?? []) socket.destroy();
    bySession.delete(key);
    if (bySession.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  }

  return {
    track(sessionKey: string, socket: Duplex): void {
      const sockets = bySession.get(sessionKey) ?? new Set();
      sockets.add(socket);
      bySession.set(sessionKey, sockets);
      const age = options.maxAgeMs === undefined ? undefined : setTimeout(() => socket.destroy(), options.maxAgeMs).unref();
      socket.once('close', () => {
        clearTimeout(age);
        sockets.delete(socket);
        if (sockets.size === 0 && bySession.get(sessionKey) === sockets) closeSession(sessionKey);
      });
      timer ??= setInterval(() => void check(), options.checkIntervalMs).unref();
    },
    /** Closes the connections of a session that ended here (logout). */
    closeSession,
    close(): void {
      for (const key of [...bySession.keys()]) closeSession(key);
    },
  };
}
