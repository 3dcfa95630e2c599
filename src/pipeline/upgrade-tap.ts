import type { Duplex } from 'node:stream';
import type { Exchange } from './exchange.ts';
import { createSessionRecorder, type SessionRecorder } from '../recording/session-recorder.ts';
import { createFrameScanner } from './websocket-frames.ts';

/** Bytes each way through an upgraded connection, and which side ended it first. */
export interface UpgradeTap {
  protocol: string | undefined;
  bytesIn: number;
  bytesOut: number;
  /** The side that began the close: sent the first WebSocket close frame, or (SPDY) ended its stream first. */
  by: 'client' | 'cluster' | undefined;
  /** The session's recording, when its cluster records sessions. */
  recorder: SessionRecorder | undefined;
}

/** Only exec and attach carry a terminal worth recording; only WebSocket's frames are read. */
function recorderFor(exchange: Exchange, websocket: boolean, protocol: string | undefined, now: () => number): SessionRecorder | undefined {
  const settings = exchange.cluster.recordSessions;
  const { subresource } = exchange.request;
  if (!settings || !websocket || protocol === undefined || (subresource !== 'exec' && subresource !== 'attach')) return undefined;
  return createSessionRecorder(exchange, settings, protocol, now);
}

const CLOSE = 8;

/**
 * Listens beside the pipe of an upgraded connection (a `data` listener on a flowing stream never
 * pauses it): counts the bytes, and tells who ended it. Over WebSocket the side that sent the
 * first close frame ended it (the TCP ends race after the closing handshake); over SPDY, the
 * side whose stream ended first.
 */
export function tapUpgrade(exchange: Exchange, socket: Duplex, upstream: Duplex, protocol: string | undefined, now: () => number): UpgradeTap {
  const websocket = /^websocket$/i.test(String(exchange.headers.upgrade ?? ''));
  const recorder = recorderFor(exchange, websocket, protocol, now);
  const tap: UpgradeTap = { protocol, bytesIn: 0, bytesOut: 0, by: undefined, recorder };
  const frames = (side: 'client' | 'cluster', record: ((opcode: number, payload: Buffer | undefined) => void) | undefined) =>
    createFrameScanner((opcode, payload) => {
      if (opcode === CLOSE) tap.by ??= side;
      record?.(opcode, payload);
    }, record !== undefined);
  const fromClient = websocket ? frames('client', recorder?.fromClient) : undefined;
  const fromCluster = websocket ? frames('cluster', recorder?.fromCluster) : undefined;
  socket.on('data', (chunk: Buffer) => {
    tap.bytesIn += chunk.length;
    fromClient?.(chunk);
  });
  upstream.on('data', (chunk: Buffer) => {
    tap.bytesOut += chunk.length;
    fromCluster?.(chunk);
  });
  socket.once('end', () => void (tap.by ??= 'client'));
  upstream.once('end', () => void (tap.by ??= 'cluster'));
  return tap;
}
