import type { Duplex } from 'node:stream';
import type { UpgradeHeads } from '../forward/observer.ts';
import { createSessionRecorder, type SessionRecorder } from '../recording/session-recorder.ts';
import { execCommand } from './audit.ts';
import type { Exchange } from './exchange.ts';
import { createFrameScanner } from './websocket-frames.ts';

/** Bytes each way through an upgraded connection, which side began its close, and its recording. */
export interface UpgradeTap {
  protocol: string | undefined;
  bytesIn: number;
  bytesOut: number;
  /** The side that began the close: sent the first WebSocket close frame, or (SPDY) ended its stream first. */
  by: 'client' | 'cluster' | undefined;
  /** The session's recording, when its cluster records sessions. */
  recorder: SessionRecorder | undefined;
}

/** Only exec and attach carry a terminal worth recording, and only over WebSocket (SPDY's frames are not read). */
function recorderFor(exchange: Exchange, websocket: boolean, protocol: string | undefined, now: () => number): SessionRecorder | undefined {
  const settings = exchange.cluster.recordSessions;
  const { request } = exchange;
  if (!settings || !websocket || protocol === undefined || !request.isResourceRequest) return undefined;
  const { subresource } = request;
  if (subresource !== 'exec' && subresource !== 'attach') return undefined;
  const container = /[?&]container=([^&]*)/.exec(exchange.path)?.[1];
  return createSessionRecorder({
    ...settings,
    protocol,
    now,
    facts: {
      requestId: exchange.id,
      cluster: exchange.cluster.name,
      user: exchange.user,
      namespace: request.namespace,
      pod: request.name,
      container: container === undefined ? undefined : decodeURIComponent(container.replace(/\+/g, ' ')),
      subresource,
      command: execCommand(exchange) ?? [],
    },
  });
}

const CLOSE = 8;

/**
 * Listens beside the pipe of an upgraded connection (a `data` listener on a flowing stream never
 * pauses it): counts the bytes, tells who began the close, and feeds the recorder. Over WebSocket
 * the side that sent the first close frame began it (the TCP ends race after the closing
 * handshake); over SPDY, the side whose stream ended first.
 */
export function tapUpgrade(
  exchange: Exchange,
  { socket, upstream, heads }: { socket: Duplex; upstream: Duplex; heads: UpgradeHeads },
  protocol: string | undefined,
  now: () => number,
): UpgradeTap {
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
  const client = (chunk: Buffer) => {
    tap.bytesIn += chunk.length;
    fromClient?.(chunk);
  };
  const cluster = (chunk: Buffer) => {
    tap.bytesOut += chunk.length;
    fromCluster?.(chunk);
  };
  client(heads.fromClient);
  cluster(heads.fromCluster);
  socket.on('data', client);
  upstream.on('data', cluster);
  socket.once('end', () => void (tap.by ??= 'client'));
  upstream.once('end', () => void (tap.by ??= 'cluster'));
  return tap;
}
