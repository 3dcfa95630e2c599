/**
 * The name a field selector pins with `metadata.name=<name>` (or `==`), by apimachinery's rules:
 * terms split on unescaped commas and sorted, `\,` `\=` `\\` escapes in values; a selector that
 * does not parse pins nothing, nor does a name that could not be a path segment.
 */
export function nameFromFieldSelector(selector: string): string {
  const terms: string[] = [];
  let from = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector.charCodeAt(i);
    if (c === 92) i++; // '\' escapes the next character
    else if (c === 44) {
      terms.push(selector.slice(from, i));
      from = i + 1;
    }
  }
  terms.push(selector.slice(from));
  terms.sort();
  let name: string | undefined;
  for (const term of terms) {
    if (term === '') continue;
    // The first operator from the left, `!=` before `==` before `=` at each position.
    let op = 0;
    while (op < term.length && term.charCodeAt(op) !== 61 && !(term.charCodeAt(op) === 33 && term.charCodeAt(op + 1) === 61)) op++;
    if (op === term.length) return '';
    const equals = term.charCodeAt(op) === 61;
    const value = unescapeSelectorValue(term.slice(op + (equals && term.charCodeAt(op + 1) !== 61 ? 1 : 2)));
    if (value === undefined) return '';
    if (name === undefined && equals && term.slice(0, op) === 'metadata.name') name = value;
  }
  if (name === undefined || name === '.' || name === '..' || name.includes('/') || name.includes('%')) return '';
  return name;
}

function unescapeSelectorValue(value: string): string | undefined {
  if (!value.includes('\\') && !value.includes(',') && !value.includes('=')) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\') {
      const next = value[++i];
      if (next !== '\\' && next !== ',' && next !== '=') return undefined;
      out += next;
    } else if (c === ',' || c === '=') {
      return undefined;
    } else {
      out += c;
    }
  }
  return out;
}
