/**
 * Reads WebSocket messages (RFC 6455) out of the bytes one side of an upgraded connection sends,
 * beside the pipe that relays them: the pipe is never paused nor changed. Audit uses the frame
 * headers (which side sent the close frame first), session recording the payloads.
 */

/** Largest message payload handed over whole; a longer one is reported without its payload. */
export const MAX_SCANNED_PAYLOAD = 1024 * 1024;

/**
 * A message was read: its opcode (`1` text, `2` binary, `8` close, ...; a fragmented message has
 * its first frame's) and its unmasked payload, when asked for and at most
 * {@link MAX_SCANNED_PAYLOAD} bytes.
 */
export type FrameListener = (opcode: number, payload: Buffer | undefined) => void;

/** Control frames (close, ping, pong) may come between the fragments of a message. */
const isControl = (opcode: number) => (opcode & 0x08) !== 0;

/**
 * Returns the function to feed each chunk to. Malformed framing (a length beyond 2^53) stops the
 * scan for good: the connection itself is the peers' business.
 */
export function createFrameScanner(onFrame: FrameListener, withPayload: boolean): (chunk: Buffer) => void {
  let header = Buffer.alloc(0);
  let inPayload = false;
  let remaining = 0;
  // The frame being read.
  let opcode = 0;
  let fin = true;
  let mask: Buffer | undefined;
  let maskOffset = 0;
  let parts: Buffer[] = [];
  let collected = 0;
  // The data message being assembled from fragments (opcode 0 continues it).
  let message: { opcode: number; parts: Buffer[]; size: number } | undefined;
  let broken = false;

  function finishFrame(): void {
    inPayload = false;
    const payload = withPayload && collected <= MAX_SCANNED_PAYLOAD ? Buffer.concat(parts, collected) : undefined;
    const size = collected;
    parts = [];
    collected = 0;
    if (isControl(opcode)) {
      onFrame(opcode, payload);
      return;
    }
    // A continuation without a start (or a start inside a message) is the peers' mistake: read on from here.
    if (opcode !== 0 || !message) message = { opcode: opcode === 0 ? 2 : opcode, parts: [], size: 0 };
    message.size += size;
    if (payload && message.size <= MAX_SCANNED_PAYLOAD) message.parts.push(payload);
    if (!fin) return;
    const whole = withPayload && message.size <= MAX_SCANNED_PAYLOAD ? Buffer.concat(message.parts, message.size) : undefined;
    const first = message.opcode;
    message = undefined;
    onFrame(first, whole);
  }

  /** Reads as much of a header as `chunk` has from `at`; returns how many bytes it took. */
  function readHeader(chunk: Buffer, at: number): number {
    const before = header.length;
    header = Buffer.concat([header, chunk.subarray(at, at + 14 - before)]);
    if (header.length < 2) return header.length - before;
    const len7 = header[1]! & 0x7f;
    const masked = (header[1]! & 0x80) !== 0;
    const lengthBytes = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    const need = 2 + lengthBytes + (masked ? 4 : 0);
    if (header.length < need) return header.length - before;
    let length = len7;
    if (len7 === 126) length = header.readUInt16BE(2);
    else if (len7 === 127) {
      const big = header.readBigUInt64BE(2);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) {
        broken = true;
        return chunk.length - at;
      }
      length = Number(big);
    }
    fin = (header[0]! & 0x80) !== 0;
    opcode = header[0]! & 0x0f;
    mask = masked ? Buffer.from(header.subarray(2 + lengthBytes, need)) : undefined;
    maskOffset = 0;
    remaining = length;
    inPayload = true;
    header = Buffer.alloc(0);
    return need - before;
  }

  return function scan(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length && !broken) {
      if (!inPayload) {
        i += readHeader(chunk, i);
        if (inPayload && remaining === 0) finishFrame();
        continue;
      }
      const n = Math.min(remaining, chunk.length - i);
      if (withPayload && collected + n <= MAX_SCANNED_PAYLOAD) {
        const part = Buffer.from(chunk.subarray(i, i + n));
        if (mask) for (let k = 0; k < part.length; k++) part[k]! ^= mask[(maskOffset + k) & 3]!;
        parts.push(part);
      }
      collected += n;
      maskOffset += n;
      remaining -= n;
      i += n;
      if (remaining === 0) finishFrame();
    }
  };
}
