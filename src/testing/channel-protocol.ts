/**
 * The Kubernetes remote-command channel protocol over WebSocket (exec and attach):
 * each message is one channel byte followed by the payload; base64 variants send text messages
 * whose first character is `'0' + channel` followed by standard base64.
 */

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;
/** v5 only: `[255, channel]` from the client half-closes that channel (stdin). */
export const CLOSE = 255;

export interface ChannelProtocol {
  /** The subprotocol name echoed in `Sec-WebSocket-Protocol` (empty when the client offered none). */
  readonly name: string;
  /** 1 for `channel.k8s.io` (and no subprotocol) up to 5 for `v5.channel.k8s.io`. */
  readonly version: 1 | 2 | 3 | 4 | 5;
  readonly base64: boolean;
}

const SUPPORTED: readonly ChannelProtocol[] = [
  { name: 'v5.channel.k8s.io', version: 5, base64: false },
  { name: 'v4.channel.k8s.io', version: 4, base64: false },
  { name: 'v4.base64.channel.k8s.io', version: 4, base64: true },
  { name: 'v3.channel.k8s.io', version: 3, base64: false },
  { name: 'v2.channel.k8s.io', version: 2, base64: false },
  { name: 'channel.k8s.io', version: 1, base64: false },
  { name: 'base64.channel.k8s.io', version: 1, base64: true },
];

/** Names of the supported subprotocols, for error messages. */
export const SUPPORTED_PROTOCOLS: readonly string[] = SUPPORTED.map((protocol) => protocol.name);

/**
 * Picks the first offered protocol that is supported, in the client's order, as the apiserver does.
 * No offer at all means the plain `channel.k8s.io` framing without an echoed protocol.
 */
export function negotiateChannelProtocol(offered: readonly string[]): ChannelProtocol | undefined {
  if (offered.length === 0) return { name: '', version: 1, base64: false };
  for (const name of offered) {
    const protocol = SUPPORTED.find((candidate) => candidate.name === name);
    if (protocol) return protocol;
  }
  return undefined;
}

export function encodeFrame(protocol: ChannelProtocol, channel: number, payload: Uint8Array): Buffer | string {
  if (protocol.base64) return String.fromCharCode(48 + channel) + Buffer.from(payload).toString('base64');
  const frame = Buffer.allocUnsafe(payload.length + 1);
  frame[0] = channel;
  frame.set(payload, 1);
  return frame;
}

export function decodeFrame(protocol: ChannelProtocol, data: Buffer, isBinary: boolean): { channel: number; payload: Buffer } | undefined {
  if (data.length === 0) return undefined;
  if (protocol.base64 && !isBinary) {
    return { channel: (data[0] ?? 48) - 48, payload: Buffer.from(data.subarray(1).toString('latin1'), 'base64') };
  }
  return { channel: data[0] ?? 0, payload: data.subarray(1) };
}
