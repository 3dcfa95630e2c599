import { readFile } from 'node:fs/promises';

/** How long a token read from a file is trusted before the file is read again. */
export const TOKEN_FILE_REREAD_MS = 60_000;

/**
 * A token kept in a file that something else rotates (a projected service-account token, a
 * sidecar). The file is read at most once per {@link TOKEN_FILE_REREAD_MS}; when a read fails or
 * finds the file empty, the last good token is kept. Concurrent callers share one read.
 */
export function createTokenFileReader(path: string, now: () => number) {
  let last: { token: string; readAt: number } | undefined;
  let reading: Promise<string> | undefined;

  async function read(): Promise<string> {
    try {
      const token = (await readFile(path, 'utf8')).trim();
      if (token === '') throw new Error('the file is empty');
      last = { token, readAt: now() };
      return token;
    } catch (error) {
      if (last) {
        // Try again on the next request rather than in a minute: the file may be mid-rotation.
        return last.token;
      }
      throw error;
    }
  }

  return {
    /** The current token. Rejects only when no read has ever succeeded. */
    token(): Promise<string> {
      if (last && now() - last.readAt < TOKEN_FILE_REREAD_MS) return Promise.resolve(last.token);
      reading ??= read().finally(() => {
        reading = undefined;
      });
      return reading;
    },
    /** Forces a read on the next call, e.g. after the cluster rejected the token. */
    stale(): void {
      if (last) last.readAt = -Infinity;
    },
  };
}
