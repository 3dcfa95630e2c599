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

/** `last` if it is still at or after `from` (or there is none), else the next `char` from `from`. */
function nextIndex(query: string, char: string, last: number, from: number): number {
  return last !== -1 && last < from ? query.indexOf(char, from) : last;
}

/**
 * The first value of `key` in a raw query, by Go's `url.ParseQuery` rules (what the API server
 * reads): pairs split on `&`, a pair containing `;` or a bad escape skipped, keys and values
 * unescaped (`+` is a space).
 */
export function queryValue(query: string, key: string): string | undefined {
  const n = query.length;
  // The next `;`, `=`, `%` and `+` at or after the current pair, each searched for once per
  // occurrence: linear in the query, and native scans instead of a loop over every character.
  let semicolon = query.indexOf(';');
  let equals = query.indexOf('=');
  let percent = query.indexOf('%');
  let plus = query.indexOf('+');
  let start = 0;
  while (start < n) {
    let end = query.indexOf('&', start);
    if (end === -1) end = n;
    semicolon = nextIndex(query, ';', semicolon, start);
    if (end > start && (semicolon === -1 || semicolon >= end)) {
      equals = nextIndex(query, '=', equals, start);
      const keyEnd = equals !== -1 && equals < end ? equals : end;
      let matches = keyEnd - start === key.length && query.startsWith(key, start);
      if (!matches) {
        percent = nextIndex(query, '%', percent, start);
        plus = nextIndex(query, '+', plus, start);
        const escaped = (percent !== -1 && percent < keyEnd) || (plus !== -1 && plus < keyEnd);
        matches = escaped && percentDecode(query.slice(start, keyEnd), true) === key;
      }
      if (matches) {
        const value = keyEnd === end ? '' : percentDecode(query.slice(keyEnd + 1, end), true);
        if (value !== undefined) return value;
      }
    }
    start = end + 1;
  }
  return undefined;
}
