import { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { decodeFrame, encodeFrame, type ChannelProtocol } from './channel-protocol.ts';
import { forwardToPort, parsePort } from './port-forward.ts';
import type { StoredPod } from './pods.ts';
import type { PortTargets } from './port-targets.ts';
import { badRequest } from './status.ts';

/** Subprotocols of the channel-style WebSocket port-forward, as the kubelet offers them. */
export const PORT_FORWARD_CHANNEL_PROTOCOLS: readonly ChannelProtocol[] = [
  { name: 'v4.channel.k8s.io', version: 4, base64: false },
  { name: 'v4.base64.channel.k8s.io', version: 4, base64: true },
];

/** Most ports one request may forward. */
const MAX_PORTS = 16;

/** The `ports` query parameters (repeated or comma-separated), checked as the kubelet checks them. */
export function parsePortsQuery(query: URLSearchParams): number[] {
  const values = query.getAll('ports');
  if (values.length === 0) throw badRequest('query parameter "ports" is required');
  const ports: number[] = [];
  for (const value of values) {
    if (value === '') throw badRequest('query parameter "ports" cannot be empty');
    for (const part of value.split(',')) {
      const port = parsePort(part);
      if (typeof port === 'string') throw badRequest(port);
      ports.push(port);
    }
  }
  if (ports.length > MAX_PORTS) throw badRequest(`at most ${MAX_PORTS} ports can be forwarded by one request`);
  return ports;
}

/**
 * Port-forward over the channel protocol: for the i-th port, channel 2i carries data both ways and
 * channel 2i+1 errors to the client; the first message on each channel is the port number (2 bytes,
 * little-endian). One connection per port; the WebSocket closes when all have ended.
 */
export function serveWebSocketPortForward(ws: WebSocket, protocol: ChannelProtocol, ports: readonly number[], pod: StoredPod, targets: PortTargets): Promise<void> {
  const inbound = new Map<number, Duplex>();
  ws.on('error', () => undefined);
  const send = (channel: number, payload: Uint8Array, callback: () => void = () => undefined) => {
    if (ws.readyState === ws.OPEN) ws.send(encodeFrame(protocol, channel, payload), () => callback());
    else callback();
  };

  const forwards = ports.map((port, index) => {
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port);
    send(index * 2, portBytes);
    send(index * 2 + 1, portBytes);
    // The client's side of the connection to the pod, as a stream: its input is what the client
    // sends on the data channel, its output goes out as data messages, paced by the socket.
    const client = new Duplex({
      read: () => ws.resume(),
      write: (chunk: Buffer, _encoding, callback) => send(index * 2, chunk, () => callback()),
      final: (callback) => callback(),
    });
    inbound.set(index * 2, client);
    return forwardToPort(pod, targets, port, client, (message) => send(index * 2 + 1, Buffer.from(message, 'utf8')));
  });

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const frame = decodeFrame(protocol, data, isBinary);
    const client = frame && inbound.get(frame.channel);
    if (!client || frame.payload.length === 0) return;
    if (!client.push(frame.payload)) ws.pause();
  });
  ws.once('close', () => {
    for (const client of inbound.values()) client.destroy();
  });
  return Promise.all(forwards).then(() => {
    if (ws.readyState === ws.OPEN) ws.close(1000);
  });
}
