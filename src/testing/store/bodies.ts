import type { IncomingMessage } from 'node:http';
import { parse } from 'yaml';
import { badRequest, StatusError, unsupportedMediaType } from '../status.ts';

/** kube-apiserver's limit on request bodies (3 MiB). */
const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Reads a request body, refusing one larger than `limit` bytes with 413. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new StatusError('RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** YAML (a superset of JSON): one document, no custom tags, bounded aliases. */
export function parseYaml(body: Buffer, what: string): unknown {
  try {
    return parse(body.toString('utf8'), { maxAliasCount: 100, prettyErrors: false }) as unknown;
  } catch (error) {
    throw badRequest(`error decoding YAML ${what}: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
}

/**
 * Decodes a create or update body: JSON, or YAML. The fake does not decode protobuf objects
 * (clients fall back to JSON when asked with a 415).
 */
export function decodeObjectBody(body: Buffer, contentType: string | undefined): unknown {
  const mediaType = mediaTypeOf(contentType);
  if (mediaType === 'application/yaml') return parseYaml(body, 'body');
  if (mediaType !== '' && mediaType !== 'application/json' && mediaType !== '*/*') {
    throw unsupportedMediaType(['application/json', 'application/yaml']);
  }
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (error) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message}`);
  }
}
