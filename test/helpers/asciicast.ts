/**
 * A strict reader of asciicast v2, written from its specification, to check what the recorder
 * wrote: a header object with `version: 2` and whole `width`/`height`, then one
 * `[seconds, code, data]` array per line, times never going back.
 */
export interface Asciicast {
  header: { version: number; width: number; height: number; timestamp?: number; title?: string; kube_cluster_proxy?: Record<string, unknown> };
  events: [number, string, string][];
}

export function parseAsciicast(text: string): Asciicast {
  if (!text.endsWith('\n')) throw new Error('an asciicast file ends with a newline');
  const [first, ...lines] = text.slice(0, -1).split('\n');
  const header = JSON.parse(first ?? '') as Asciicast['header'];
  if (header.version !== 2) throw new Error(`version ${String(header.version)}, not 2`);
  if (!Number.isInteger(header.width) || !Number.isInteger(header.height)) throw new Error('width and height must be whole numbers');
  let last = 0;
  const events = lines.map((line, i) => {
    const event = JSON.parse(line) as unknown;
    if (!Array.isArray(event) || event.length !== 3) throw new Error(`line ${i + 2} is not [time, code, data]`);
    const [time, code, data] = event as [unknown, unknown, unknown];
    if (typeof time !== 'number' || time < last) throw new Error(`line ${i + 2}: time ${String(time)} goes back`);
    if (typeof code !== 'string' || !['o', 'i', 'r', 'm'].includes(code) || typeof data !== 'string') throw new Error(`line ${i + 2}: bad code or data`);
    last = time;
    return [time, code, data] as [number, string, string];
  });
  return { header, events };
}

/** Everything of one event code, joined. */
export function textOf(cast: Asciicast, code: 'o' | 'i'): string {
  return cast.events.filter(([, c]) => c === code).map(([, , data]) => data).join('');
}
