/**
 * URL unescaping as Go's net/url does it, which is what kube-apiserver reads: where JavaScript's
 * decoders differ (invalid UTF-8, `;` in a query), the API server's reading is the one that counts.
 */

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Decodes `%XX` byte by byte, as Go does, with invalid UTF-8 replaced (it can name nothing real). */
function decodeBytes(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      const cp = s.codePointAt(i)!;
      for (const b of Buffer.from(String.fromCodePoint(cp))) bytes.push(b);
      if (cp > 0xffff) i++;
    }
  }
  return utf8.decode(Uint8Array.from(bytes));
}

/**
 * Percent-decodes like Go's URL unescaping: `undefined` for a `%` not followed by two hex digits
 * (Go refuses the whole request with 400); `+` is a space only in a query.
 */
export function percentDecode(s: string, plusIsSpace: boolean): string | undefined {
  for (let i = s.indexOf('%'); i !== -1; i = s.indexOf('%', i + 3)) {
    if (!isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) return undefined;
  }
  const t = plusIsSpace && s.includes('+') ? s.replaceAll('+', ' ') : s;
  if (!t.includes('%')) return t;
  try {
    return decodeURIComponent(t);
  } catch {
    return decodeBytes(t);
  }
}

/**
 * The first value of `key` in a raw query, by Go's `url.ParseQuery` rules (what the API server
 * reads): pairs split on `&`, a pair containing `;` or a bad escape skipped, keys and values
 * unescaped (`+` is a space).
 */
export function queryValue(query: string, key: string): string | undefined {
  const n = query.length;
  let start = 0;
  while (start <= n) {
    let end = query.indexOf('&', start);
    if (end === -1) end = n;
    let eq = -1;
    let skip = end === start;
    let escaped = false;
    for (let i = start; i < end && !skip; i++) {
      const c = query.charCodeAt(i);
      if (c === 59) skip = true; // ';'
      else if (c === 61 && eq === -1) eq = i; // '='
      else if ((c === 37 || c === 43) && eq === -1) escaped = true; // '%' or '+' in the key
    }
    if (!skip) {
      const keyEnd = eq === -1 ? end : eq;
      const matches = escaped
        ? percentDecode(query.slice(start, keyEnd), true) === key
        : keyEnd - start === key.length && query.startsWith(key, start);
      if (matches) {
        const value = eq === -1 ? '' : percentDecode(query.slice(eq + 1, end), true);
        if (value !== undefined) return value;
      }
    }
    start = end + 1;
  }
  return undefined;
}
