/**
 * asciicast v2 (the format asciinema plays): a JSON header line, then one JSON array per event,
 * `[seconds since the start, code, data]`: `"o"` output, `"i"` input, `"r"` a resize as
 * `"COLSxROWS"`. Unknown header keys are ignored by players, so the proxy's facts go under one key
 * of its own.
 */

/** What a recording's header says of its session, under `kube_cluster_proxy`. */
export interface RecordingFacts {
  requestId: string;
  cluster: string;
  user: { name: string | undefined; groups: readonly string[]; kind: string; source: string };
  namespace: string | undefined;
  pod: string | undefined;
  container: string | undefined;
  subresource: 'exec' | 'attach';
  /** The exec command, tokens redacted; empty for attach. */
  command: string[];
}

/** Terminal size assumed until the client sends one (a client without a TTY never does). */
export const DEFAULT_SIZE = { width: 80, height: 24 };

/** The header line: the terminal size the player starts with, the start time in whole seconds since the epoch. */
export function headerLine(facts: RecordingFacts, startedAtMs: number, size: { width: number; height: number }): string {
  const where = `${facts.namespace ?? ''}/${facts.pod ?? ''}`;
  const title = `${facts.cluster} ${where} ${facts.subresource}${facts.command.length > 0 ? ` ${facts.command.join(' ')}` : ''}`;
  return `${JSON.stringify({ version: 2, width: size.width, height: size.height, timestamp: Math.floor(startedAtMs / 1000), title, kube_cluster_proxy: facts })}\n`;
}

/** One event line; `elapsedMs` since the start, written as seconds with microseconds. */
export function eventLine(elapsedMs: number, code: 'o' | 'i' | 'r', data: string): string {
  return `[${(Math.max(0, elapsedMs) / 1000).toFixed(6)},"${code}",${JSON.stringify(data)}]\n`;
}

/** A resize message of the channel protocol (`{"Width":120,"Height":40}`) as a size; `undefined` when malformed. */
export function parseResize(text: string): { width: number; height: number } | undefined {
  try {
    const size = JSON.parse(text) as { Width?: unknown; Height?: unknown } | null;
    const { Width: width, Height: height } = size ?? {};
    if (Number.isSafeInteger(width) && Number.isSafeInteger(height) && (width as number) > 0 && (height as number) > 0) return { width: width as number, height: height as number };
  } catch {
    // Not JSON: the cluster ignores it too.
  }
  return undefined;
}
