import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { closeServer, listen } from './servers.ts';

/** What the upstream (the suite's own stand-in for a cluster) saw of one request. */
export interface UpstreamRecord {
  /** The `X-Case` header the suite put on the client's request; smuggled requests have none. */
  caseId: string | undefined;
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  /** Bytes of body received. */
  bodyBytes: number;
  upgrade: boolean;
}

/**
 * An HTTP/1.1 server standing in for a cluster: it answers every request with a small JSON body
 * marked `x-upstream: 1`, keeps its connections alive (so that smuggled bytes would be parsed as a
 * further request on a pooled connection), accepts WebSocket/SPDY upgrades with a `101` and then
 * hangs up, and records every request and every byte it could not parse.
 */
export interface LoggingUpstream {
  url: string;
  records: UpstreamRecord[];
  /** Requests the upstream's parser refused: bytes that reached it unframed. */
  parseErrors: string[];
  /** Every byte received, per connection, for a failure message. */
  bytes: Buffer[];
  close(): Promise<void>;
}

export async function startLoggingUpstream(): Promise<LoggingUpstream> {
  const records: UpstreamRecord[] = [];
  const parseErrors: string[] = [];
  const bytes: Buffer[] = [];
  const record = (req: IncomingMessage, bodyBytes: number, upgrade: boolean) =>
    records.push({ caseId: header(req, 'x-case'), method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes, upgrade });
  const server: Server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => (size += chunk.length));
    req.on('end', () => {
      record(req, size, false);
      const body = JSON.stringify({ kind: 'Probe', method: req.method, url: req.url });
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': '1', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
  });
  server.on('connection', (socket: Socket) => {
    const received: Buffer[] = [];
    bytes.push(Buffer.alloc(0));
    const index = bytes.length - 1;
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      bytes[index] = Buffer.concat(received);
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    record(req, 0, true);
    socket.on('error', () => {});
    socket.end(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${String(req.headers.upgrade)}\r\nx-upstream: 1\r\n\r\n`);
  });
  server.on('clientError', (error: Error & { rawPacket?: Buffer }, socket) => {
    parseErrors.push(`${error.message}: ${JSON.stringify(error.rawPacket?.toString('latin1').slice(0, 200) ?? '')}`);
    socket.destroy();
  });
  const url = await listen(server);
  return { url, records, parseErrors, bytes, close: () => closeServer(server) };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** One HTTP response read off a raw connection. */
export interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** What a raw connection received. */
export interface RawAnswer {
  /** Every response on the connection, in order (after a `101`, nothing more is parsed). */
  responses: RawResponse[];
  /** The raw text of everything received (Latin-1). */
  text: string;
  /** The connection ended by itself (no hang) within the wait. */
  ended: boolean;
}

/** Splits a connection's bytes into HTTP/1.1 responses, framed by Content-Length, chunked, or the close. */
export function parseResponses(text: string): RawResponse[] {
  const responses: RawResponse[] = [];
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end === -1) break;
    const [statusLine, ...lines] = text.slice(at, end).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? NaN);
    if (Number.isNaN(status)) break;
    if (status === 100) {
      // `100 Continue`, which Node sends by itself for `Expect: 100-continue`: not an answer.
      at = end + 4;
      continue;
    }
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    let bodyStart = end + 4;
    let body = '';
    const length = headers.get('content-length');
    if (status === 101 || status === 204 || status === 304) {
      body = '';
    } else if (headers.get('transfer-encoding')?.toLowerCase() === 'chunked') {
      for (;;) {
        const lineEnd = text.indexOf('\r\n', bodyStart);
        if (lineEnd === -1) break;
        const size = parseInt(text.slice(bodyStart, lineEnd), 16);
        if (!(size >= 0)) break;
        body += text.slice(lineEnd + 2, lineEnd + 2 + size);
        bodyStart = lineEnd + 2 + size + 2;
        if (size === 0) break;
      }
    } else if (length !== undefined) {
      body = text.slice(bodyStart, bodyStart + Number(length));
      bodyStart += Number(length);
    } else {
      body = text.slice(bodyStart);
      bodyStart = text.length;
    }
    responses.push({ status, headers, body });
    if (status === 101) break;
    at = bodyStart;
  }
  return responses;
}

/**
 * Writes raw bytes and reads until the server closes the connection or `waitMs` passes: the
 * requests ask for `Connection: close`, so a server that keeps the connection open is hanging.
 */
export function exchangeRaw(port: number, raw: Buffer, waitMs: number): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let ended = false;
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => (ended = true));
    socket.on('error', () => (ended = true));
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ responses: parseResponses(text), text, ended });
    });
    socket.write(raw);
  });
}

/** Runs `tasks` with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await task(items[next++]!);
  });
  await Promise.all(workers);
}

/** A small deterministic PRNG (mulberry32), so that a failing random case can be replayed from its seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
