import type { ServerResponse } from 'node:http';
import { decimalResourceVersion } from './watch-event.ts';

/** The largest write answer read for its resourceVersion: the API server stores objects of at most ~1.5 MiB. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/**
 * Calls `found` with the resourceVersion of the object a successful write answered with, read from
 * the bytes the forwarder sends the client (which are not changed or delayed). A compressed,
 * non-JSON or oversized answer is not read: that write gives no read-your-writes wait.
 */
export function onWrittenResourceVersion(res: ServerResponse, found: (resourceVersion: number) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  const keep = (chunk: unknown, encoding: unknown) => {
    if (over || chunk === undefined || chunk === null || typeof chunk === 'function') return;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : Buffer.from(chunk as Uint8Array);
    size += bytes.length;
    if (size > MAX_ANSWER_BYTES) {
      over = true;
      chunks.length = 0;
    } else chunks.push(bytes);
  };
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.write = ((chunk: unknown, ...rest: unknown[]) => {
    keep(chunk, rest[0]);
    return write(chunk, ...rest);
  }) as typeof res.write;
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    keep(chunk, rest[0]);
    return end(chunk, ...rest);
  }) as typeof res.end;
  res.once('finish', () => {
    if (over || res.statusCode < 200 || res.statusCode > 299 || res.getHeader('content-encoding') !== undefined) return;
    try {
      const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { metadata?: { resourceVersion?: unknown } };
      const resourceVersion = decimalResourceVersion(answer?.metadata?.resourceVersion);
      if (resourceVersion !== undefined) found(resourceVersion);
    } catch {
      // Not a JSON object: nothing to wait for.
    }
  });
}
