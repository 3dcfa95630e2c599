import { createHash } from 'node:crypto';

/** A strong entity tag for a body the cluster sent without one: its SHA-256, so equal bodies get equal tags. */
export function bodyEtag(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url')}"`;
}

/** The opaque part of an entity tag, without `W/`: `If-None-Match` compares weakly (RFC 9110 section 13.1.2). */
function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

/**
 * Whether an `If-None-Match` header matches `etag`: `*`, or one of its comma-separated entity
 * tags equal to it by weak comparison. Anything malformed matches nothing (the full answer is sent).
 */
export function ifNoneMatchMatches(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const value = Array.isArray(header) ? header.join(',') : header;
  if (value.length > 8192) return false;
  if (value.trim() === '*') return true;
  const want = opaque(etag);
  for (const part of value.split(',')) {
    const tag = part.trim();
    if (/^(W\/)?"[\x21\x23-\x7e\x80-\xff]*"$/.test(tag) && opaque(tag) === want) return true;
  }
  return false;
}
