import type { Duplex } from 'node:stream';
import type { UpgradeCloseCause } from './audit.ts';
import type { Exchange } from './exchange.ts';
import { createFrameScanner } from './websocket-frames.ts';

/** Bytes each way through an upgraded connection, and which side ended it first. */
export interface UpgradeTap {
  protocol: string | undefined;
  bytesIn: number;
  bytesOut: number;
  cause: UpgradeCloseCause | undefined;
}

const CLOSE = 8;

/**
 * Listens beside the pipe of an upgraded connection (a `data` listener on a flowing stream never
 * pauses it): counts the bytes, and tells who ended it. Over WebSocket the side that sent the
 * first close frame ended it (the TCP ends race after the closing handshake); over SPDY, the
 * side whose stream ended first.
 */
export function tapUpgrade(exchange: Exchange, socket: Duplex, upstream: Duplex, protocol: string | undefined): UpgradeTap {
  const tap: UpgradeTap = { protocol, bytesIn: 0, bytesOut: 0, cause: undefined };
  const websocket = /^websocket$/i.test(String(exchange.headers.upgrade ?? ''));
  const closedBy = (cause: UpgradeCloseCause) => (opcode: number) => {
    if (opcode === CLOSE) tap.cause ??= cause;
  };
  const fromClient = websocket ? createFrameScanner(closedBy('client'), false) : undefined;
  const fromCluster = websocket ? createFrameScanner(closedBy('cluster'), false) : undefined;
  socket.on('data', (chunk: Buffer) => {
    tap.bytesIn += chunk.length;
    fromClient?.(chunk);
  });
  upstream.on('data', (chunk: Buffer) => {
    tap.bytesOut += chunk.length;
    fromCluster?.(chunk);
  });
  socket.once('end', () => void (tap.cause ??= 'client'));
  upstream.once('end', () => void (tap.cause ??= 'cluster'));
  return tap;
}
