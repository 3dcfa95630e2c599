import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { sendJson } from './status.ts';

/**
 * Where a long-lived answer (watch events, log lines) goes: a chunked HTTP response, or a
 * WebSocket as browsers use for watch and logs. Writes are flushed one by one.
 */
export interface Responder {
  /** Answers with one JSON document. */
  json(code: number, body: unknown): void;
  /** Answers with plain text. */
  text(code: number, body: string): void;
  /** Starts the stream (response headers, or the WebSocket handshake) with this content type. */
  stream(contentType: string): StreamSink;
}

export interface StreamSink {
  write(chunk: string | Buffer): void;
  end(): void;
  /** Runs `listener` once when the stream ends for any reason (client gone, `end()`, server closing). */
  onClose(listener: () => void): void;
}

export function httpResponder(res: ServerResponse): Responder {
  return {
    json: (code, body) => sendJson(res, code, body),
    text: (code, body) => {
      res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end(body);
    },
    stream: (contentType) => {
      // No Content-Length: node:http chunks the body over HTTP/1.1, and HTTP/2 frames it (where a
      // Transfer-Encoding header is forbidden).
      res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private' });
      res.flushHeaders();
      return {
        write: (chunk) => void (res.writableEnded ? undefined : res.write(chunk)),
        end: () => void (res.writableEnded ? undefined : res.end()),
        onClose: (listener) => void res.once('close', listener),
      };
    },
  };
}

/** Framing of watch and log streams over WebSocket, chosen by subprotocol. */
export type BinaryStreamProtocol = '' | 'binary.k8s.io' | 'base64.binary.k8s.io';

export const BINARY_STREAM_PROTOCOLS: readonly BinaryStreamProtocol[] = ['binary.k8s.io', 'base64.binary.k8s.io'];

/**
 * A responder that completes the WebSocket handshake only once the request was validated, so that
 * errors are still answered with an HTTP Status. Watch events go out as text messages (one JSON
 * event each), log data as binary messages, or base64 text with `base64.binary.k8s.io`.
 */
export function webSocketResponder(
  server: WebSocketServer,
  upgrade: { req: IncomingMessage; socket: Duplex; head: Buffer },
  protocol: BinaryStreamProtocol,
  notStreaming: () => never,
): Responder {
  return {
    json: notStreaming,
    text: notStreaming,
    stream: (contentType) => {
      const queue: (string | Buffer)[] = [];
      const listeners: (() => void)[] = [];
      let ws: WebSocket | undefined;
      let ending = false;
      const text = contentType.startsWith('application/json');
      const send = (socket: WebSocket, chunk: string | Buffer) => {
        if (text) socket.send(chunk.toString());
        else if (protocol === 'base64.binary.k8s.io') socket.send(Buffer.from(chunk).toString('base64'));
        else socket.send(chunk);
      };
      const closed = () => listeners.splice(0).forEach((listener) => listener());
      upgrade.socket.once('close', closed);
      server.handleUpgrade(upgrade.req, upgrade.socket, upgrade.head, (socket) => {
        ws = socket;
        socket.on('error', () => undefined);
        socket.once('close', closed);
        for (const chunk of queue.splice(0)) send(socket, chunk);
        if (ending) socket.close(1000);
      });
      return {
        write: (chunk) => {
          if (ending) return;
          if (ws) send(ws, chunk);
          else queue.push(chunk);
        },
        end: () => {
          if (ending) return;
          ending = true;
          if (ws && ws.readyState === ws.OPEN) ws.close(1000);
        },
        onClose: (listener) => void listeners.push(listener),
      };
    },
  };
}
