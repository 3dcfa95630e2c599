import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { badRequest, StatusError } from '../status.ts';

/** The `Upgrade` token of kubectl's SPDY requests. */
export const SPDY_UPGRADE = 'spdy/3.1';

/**
 * Picks the first `X-Stream-Protocol-Version` the client offers that the fake supports, as
 * kube-apiserver and the kubelet do (several headers or comma-separated values).
 */
export function negotiateStreamProtocol(req: IncomingMessage, supported: readonly string[]): string {
  const raw = req.headersDistinct['x-stream-protocol-version'] ?? [];
  const offered = raw.flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value !== '');
  if (offered.length === 0) throw badRequest('unable to upgrade: X-Stream-Protocol-Version is required');
  const chosen = offered.find((protocol) => supported.includes(protocol));
  if (chosen === undefined) {
    throw new StatusError(
      'Forbidden',
      `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${supported.join(' ')}]`,
    );
  }
  return chosen;
}

/** Completes the HTTP upgrade to SPDY/3.1 with the negotiated stream protocol. */
export function acceptSpdyUpgrade(socket: Duplex, protocol: string): void {
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
}
