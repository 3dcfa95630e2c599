import { request } from 'node:http';

/** One event of a watch stream, parsed. */
export interface WatchEvent {
  readonly type: string;
  readonly object: { metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> }; code?: number; reason?: string; kind?: string };
}

/** An HTTP watch opened with nothing but node:http: its status, headers, events as they come, and how it ended. */
export interface WatchStream {
  readonly status: Promise<{ code: number; headers: Record<string, string | string[] | undefined>; body?: string }>;
  readonly events: WatchEvent[];
  /** Resolves when the stream ended: `'end'` (a clean end) or `'cut'` (the connection broke). */
  readonly ended: Promise<'end' | 'cut'>;
  /** Called with each event as it arrives. */
  onEvent(listener: (event: WatchEvent) => void): void;
  abort(): void;
}

export function openWatch(url: string, headers: Record<string, string> = {}): WatchStream {
  const events: WatchEvent[] = [];
  const listeners: ((event: WatchEvent) => void)[] = [];
  let resolveStatus!: (value: Awaited<WatchStream['status']>) => void;
  let resolveEnded!: (value: 'end' | 'cut') => void;
  const status = new Promise<Awaited<WatchStream['status']>>((resolve) => (resolveStatus = resolve));
  const ended = new Promise<'end' | 'cut'>((resolve) => (resolveEnded = resolve));
  const req = request(url, { headers, agent: false }, (res) => {
    const code = res.statusCode ?? 0;
    if (code !== 200) {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => {
        resolveStatus({ code, headers: res.headers, body });
        resolveEnded('end');
      });
      res.on('error', () => resolveEnded('cut'));
      return;
    }
    resolveStatus({ code, headers: res.headers });
    let buffered = '';
    res.setEncoding('utf8');
    res.on('data', (text: string) => {
      buffered += text;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        const event = JSON.parse(line) as WatchEvent;
        events.push(event);
        for (const listener of listeners) listener(event);
      }
    });
    res.on('end', () => resolveEnded('end'));
    res.on('error', () => resolveEnded('cut'));
    res.on('aborted', () => resolveEnded('cut'));
  });
  req.on('error', () => {
    resolveStatus({ code: 0, headers: {} });
    resolveEnded('cut');
  });
  req.end();
  return { status, events, ended, onEvent: (listener) => listeners.push(listener), abort: () => req.destroy() };
}

/** GETs JSON over node:http. */
export function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    request(url, { headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) as T }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}
