import type { IncomingMessage } from 'node:http';
import { eventLine } from './watch-event.ts';

// What the cluster answered a shared watch's own requests: bodies read within a bound, and the
// ERROR event a `410` to a resume becomes.

/** The ERROR event for a `410` the cluster answered a resume with: its Status, or one saying as much. */
export function goneLine(body: Buffer | undefined): string {
  try {
    const status: unknown = JSON.parse(body?.toString('utf8') ?? '');
    if (typeof status === 'object' && status !== null && (status as { kind?: unknown }).kind === 'Status') return eventLine('ERROR', status);
  } catch {
    // not a Status: say it in our own words
  }
  return eventLine('ERROR', { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the resourceVersion to resume from is gone: list again', reason: 'Gone', code: 410 });
}

/** The body of an answer of the cluster, or `undefined` when it is over `limit` bytes or breaks off. */
export function readBody(response: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        response.destroy();
        resolve(undefined);
      } else chunks.push(chunk);
    });
    response.once('end', () => resolve(Buffer.concat(chunks)));
    response.once('error', () => resolve(undefined));
    response.once('close', () => resolve(undefined));
  });
}
