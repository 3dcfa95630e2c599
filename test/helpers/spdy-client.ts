import { connect, type TLSSocket } from 'node:tls';
import { encodeData, encodeSynStream, FrameReader, type Frame } from '../../src/testing/spdy/frames.ts';
import { HeaderCompressor } from '../../src/testing/spdy/header-block.ts';

/** A SPDY/3.1 client over a raw TLS socket, for driving the fake frame by frame (well-formed or not). */
export interface SpdyClient {
  readonly socket: TLSSocket;
  /** The 101 response headers. */
  readonly headers: Record<string, string>;
  /** Frames received so far, in order. */
  readonly frames: Frame[];
  /** Sends SYN_STREAM with these headers (compressed like kubectl's). */
  open(streamId: number, headers: Record<string, string>, fin?: boolean): Promise<void>;
  data(streamId: number, data: Uint8Array, fin?: boolean): boolean;
  /** Writes raw bytes. */
  raw(bytes: Uint8Array): void;
  /** Resolves with the first received frame matching `predicate` (10 s at most). */
  frame<T extends Frame>(predicate: (frame: Frame) => frame is T): Promise<T>;
  frame(predicate: (frame: Frame) => boolean): Promise<Frame>;
  /** Concatenated DATA payloads received on a stream. */
  received(streamId: number): Buffer;
  readonly closed: Promise<void>;
}

export type SpdyAttempt = { readonly client: SpdyClient } | { readonly status: number; readonly body: string };

/** Sends `POST path` with `Upgrade: SPDY/3.1` to a TLS server trusting `ca`; resolves with the client or the refusal. */
export function openSpdy(url: string, ca: string, path: string, headers: Record<string, string | string[]>): Promise<SpdyAttempt> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ca, servername: 'localhost' });
    const lines = [`POST ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Connection: Upgrade', 'Upgrade: SPDY/3.1', 'Content-Length: 0'];
    for (const [name, value] of Object.entries(headers)) for (const one of [value].flat()) lines.push(`${name}: ${one}`);
    socket.on('error', reject);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    let buffered = Buffer.alloc(0);
    const onHead = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onHead);
      const [statusLine = '', ...headerLines] = buffered.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(statusLine.split(' ')[1]);
      const rest = buffered.subarray(end + 4);
      if (status !== 101) {
        let body = rest.toString('utf8');
        socket.on('data', (more: Buffer) => (body += more.toString('utf8')));
        socket.on('close', () => resolve({ status, body }));
        return;
      }
      const responseHeaders = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      resolve({ client: spdyClient(socket, responseHeaders, rest) });
    };
    socket.on('data', onHead);
  });
}

function spdyClient(socket: TLSSocket, headers: Record<string, string>, head: Buffer): SpdyClient {
  const reader = new FrameReader(1 << 24);
  const compressor = new HeaderCompressor();
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  const receive = (chunk: Buffer) => {
    frames.push(...reader.push(chunk));
    for (const waiter of waiters) waiter();
  };
  socket.on('data', receive);
  if (head.length > 0) receive(head);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void closed.then(() => compressor.close());
  return {
    socket,
    headers,
    frames,
    open: async (streamId, streamHeaders, fin = false) => {
      socket.write(encodeSynStream(streamId, await compressor.compress(streamHeaders), fin));
    },
    data: (streamId, data, fin = false) => encodeData(streamId, data, fin).every((frame) => socket.write(frame)),
    raw: (bytes) => void socket.write(bytes),
    frame: (predicate: (frame: Frame) => boolean) =>
      new Promise<Frame>((resolve, reject) => {
        const check = () => {
          const found = frames.find(predicate);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no such frame within 10 s; received: ${JSON.stringify(frames.map((frame) => frame.type))}`));
        }, 10_000);
        waiters.add(check);
        check();
      }),
    received: (streamId) => Buffer.concat(frames.flatMap((frame) => (frame.type === 'data' && frame.streamId === streamId ? [frame.data] : []))),
    closed,
  } as SpdyClient;
}
