import { Readable, Writable, type Duplex } from 'node:stream';
import type { ExecHandler, TerminalSize } from './exec-context.ts';
import { parseResize, runSession, type ExecRequest } from './exec-session.ts';
import type { FakeFileSystem } from './file-tree.ts';
import { SpdyConnection, type SpdyStream } from './spdy/connection.ts';

/** Remote-command protocols over SPDY, by `X-Stream-Protocol-Version`; v5 is v4 here (its CLOSE signal is WebSocket-only). */
export const SPDY_EXEC_PROTOCOLS: Readonly<Record<string, number>> = {
  'v5.channel.k8s.io': 5,
  'v4.channel.k8s.io': 4,
  'v3.channel.k8s.io': 3,
  'v2.channel.k8s.io': 2,
};

/** The kubelet's patience for the client to open the streams it asked for. */
const STREAM_CREATION_TIMEOUT_MS = 30_000;
/** Longest resize message kept while waiting for its newline. */
const MAX_RESIZE_MESSAGE = 4096;

type StreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';

/** The streams the client must open for a request, as the kubelet expects them. */
function expectedStreams(request: ExecRequest, version: number): Set<StreamType> {
  const expected = new Set<StreamType>(['error']);
  if (request.stdin) expected.add('stdin');
  if (request.stdout) expected.add('stdout');
  if (request.stderr && !request.tty) expected.add('stderr');
  if (request.tty && version >= 3) expected.add('resize');
  return expected;
}

function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}

/** Resize messages are JSON objects one per line (Go's json.Encoder), possibly split across frames. */
function onResizeMessages(stream: SpdyStream, listener: (size: TerminalSize) => void): void {
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    if (buffered.length > MAX_RESIZE_MESSAGE) buffered = '';
    for (const line of lines) {
      const size = parseResize(line);
      if (size) listener(size);
    }
  });
}

/**
 * Serves one exec or attach over an upgraded SPDY connection: waits for the client's streams
 * (`streamType` error, stdin, stdout, stderr, resize), runs the command on them, writes the status
 * on the error stream and closes the connection.
 */
export function serveSpdySession(
  socket: Duplex,
  head: Buffer,
  version: number,
  request: ExecRequest,
  files: FakeFileSystem,
  handler: ExecHandler,
): { readonly done: Promise<void>; close(): void } {
  const expected = expectedStreams(request, version);
  const streams = new Map<StreamType, SpdyStream>();
  let gone: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (gone = resolve));
  let resized: (size: TerminalSize) => void = () => undefined;
  let started: Promise<void> | undefined;

  const connection = new SpdyConnection(socket, head, {
    accept: (headers) => {
      const type = headers.get('streamtype')?.[0] as StreamType | undefined;
      return started === undefined && type !== undefined && expected.has(type) && !streams.has(type);
    },
    onStream: (stream) => {
      const type = stream.header('streamtype') as StreamType;
      streams.set(type, stream);
      // Directions the fake never reads are drained, so that stray client data cannot stall the connection.
      if (type === 'error' || type === 'stdout' || type === 'stderr') stream.resume();
      if (type === 'resize') onResizeMessages(stream, (size) => resized(size));
      if (streams.size === expected.size) started = start();
    },
    onClose: () => gone(),
  });
  const timer = setTimeout(() => {
    if (started === undefined) connection.close();
  }, STREAM_CREATION_TIMEOUT_MS);
  timer.unref();
  void closed.then(() => clearTimeout(timer));

  function start(): Promise<void> {
    clearTimeout(timer);
    const error = streams.get('error')!;
    const stdinStream = streams.get('stdin');
    return runSession(
      {
        version,
        stdin: stdinStream ?? Readable.from([]),
        stdout: streams.get('stdout') ?? discard(),
        stderr: streams.get('stderr') ?? discard(),
        closed,
        onResize: (listener) => (resized = listener),
        finish: (status) => {
          stdinStream?.end();
          if (status !== undefined) error.write(status);
          error.end(() => connection.close());
        },
      },
      request,
      files,
      handler,
    );
  }

  return {
    done: closed.then(() => started),
    close: () => socket.destroy(),
  };
}
