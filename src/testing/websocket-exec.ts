import { PassThrough, Writable } from 'node:stream';
import type { WebSocket } from 'ws';
import { CLOSE, decodeFrame, encodeFrame, ERROR, RESIZE, STDERR, STDIN, STDOUT, type ChannelProtocol } from './channel-protocol.ts';
import type { ExecHandler, TerminalSize } from './exec-context.ts';
import { parseResize, runSession, type ExecRequest } from './exec-session.ts';
import type { FakeFileSystem } from './file-tree.ts';

/**
 * Runs one exec or attach session over an accepted WebSocket (the channel protocol): stdin and
 * resize come from client messages, output goes out as channel messages, the status on the error
 * channel, then a normal close.
 */
export function runWebSocketSession(ws: WebSocket, protocol: ChannelProtocol, request: ExecRequest, files: FakeFileSystem, handler: ExecHandler): Promise<void> {
  const stdin = new PassThrough();
  if (!request.stdin) stdin.end();
  let resized: (size: TerminalSize) => void = () => undefined;
  let gone: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (gone = resolve));
  ws.once('close', () => gone());

  const send = (channel: number, payload: Uint8Array, callback: () => void) => {
    if (ws.readyState !== ws.OPEN) {
      // The client is gone or going: stop the command now rather than when 'close' arrives.
      gone();
      callback();
      return;
    }
    // The callback runs once the socket took the message: a client that stops reading stops the writer.
    ws.send(encodeFrame(protocol, channel, payload), () => callback());
  };
  const writer = (channel: number, enabled: boolean) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (enabled) send(channel, chunk, () => callback());
        else callback();
      },
    });

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const frame = decodeFrame(protocol, data, isBinary);
    if (!frame) return;
    if (frame.channel === STDIN && request.stdin && !stdin.writableEnded) {
      // A command that does not read its stdin (cat blocked on a slow client) stops the reading
      // of the socket, so the fake never buffers more than a message or so.
      if (!stdin.write(frame.payload)) {
        ws.pause();
        stdin.once('drain', () => ws.resume());
      }
    } else if (frame.channel === RESIZE && protocol.version >= 3) {
      const size = parseResize(frame.payload.toString('utf8'));
      if (size) resized(size);
    } else if (frame.channel === CLOSE && protocol.version >= 5 && frame.payload[0] === STDIN) {
      stdin.end();
    }
  });
  ws.on('error', () => {
    // The 'close' event follows; nothing else to do.
  });
  void closed.then(() => {
    if (!stdin.writableEnded) stdin.end();
  });

  // The kubelet's "connected" signal: an empty message on the lowest writable channel.
  send(request.stdout ? STDOUT : request.stderr && !request.tty ? STDERR : ERROR, new Uint8Array(0), () => undefined);

  return runSession(
    {
      version: protocol.version,
      stdin,
      stdout: writer(STDOUT, request.stdout),
      stderr: writer(STDERR, request.stderr),
      closed,
      onResize: (listener) => (resized = listener),
      finish: (status) => {
        if (status !== undefined) send(ERROR, Buffer.from(status, 'utf8'), () => undefined);
        if (ws.readyState === ws.OPEN) ws.close(1000);
      },
    },
    request,
    files,
    handler,
  );
}
