/**
 * SPDY/3 framing (SPDY Protocol draft 3, section 2.2): an 8-byte header, then the payload.
 * Control frames: `1 | version(15) | type(16)`, `flags(8) | length(24)`. Data frames:
 * `0 | stream id(31)`, `flags(8) | length(24)`. Header blocks stay compressed here; see
 * header-block.ts.
 */

export const SPDY_VERSION = 3;

export const FrameType = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const;

export const FLAG_FIN = 0x01;

/** RST_STREAM status codes. */
export const RstStatus = { PROTOCOL_ERROR: 1, INVALID_STREAM: 2, REFUSED_STREAM: 3, CANCEL: 5, INTERNAL_ERROR: 6, STREAM_IN_USE: 8 } as const;

/** GOAWAY status codes. */
export const GoAwayStatus = { OK: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2 } as const;

const HEADER_SIZE = 8;
/** The 24-bit length field's maximum. */
export const MAX_FRAME_PAYLOAD = 0xff_ffff;

/** A frame the peer got wrong: the connection answers with GOAWAY PROTOCOL_ERROR. */
export class SpdyProtocolError extends Error {}

export type Frame =
  | { readonly type: 'data'; readonly streamId: number; readonly fin: boolean; readonly data: Buffer }
  | { readonly type: 'syn_stream'; readonly streamId: number; readonly fin: boolean; readonly headerBlock: Buffer }
  | { readonly type: 'syn_reply' | 'headers'; readonly streamId: number; readonly fin: boolean; readonly headerBlock: Buffer }
  | { readonly type: 'rst_stream'; readonly streamId: number; readonly status: number }
  | { readonly type: 'ping'; readonly id: number }
  | { readonly type: 'goaway'; readonly lastGoodStreamId: number; readonly status: number }
  | { readonly type: 'window_update'; readonly streamId: number; readonly delta: number }
  | { readonly type: 'settings' | 'unknown' };

function requireLength(payload: Buffer, min: number, name: string, exact = false): void {
  if (exact ? payload.length !== min : payload.length < min) {
    throw new SpdyProtocolError(`${name} frame has ${payload.length} payload bytes, expected ${exact ? '' : 'at least '}${min}`);
  }
}

function nonZeroStream(id: number, name: string): number {
  if (id === 0) throw new SpdyProtocolError(`${name} frame for stream 0`);
  return id;
}

function parseControl(version: number, type: number, flags: number, payload: Buffer): Frame {
  if (version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${version} (only 3 is spoken)`);
  const fin = (flags & FLAG_FIN) !== 0;
  const streamId = () => payload.readUInt32BE(0) & 0x7fff_ffff;
  switch (type) {
    case FrameType.SYN_STREAM:
      requireLength(payload, 10, 'SYN_STREAM');
      return { type: 'syn_stream', streamId: nonZeroStream(streamId(), 'SYN_STREAM'), fin, headerBlock: payload.subarray(10) };
    case FrameType.SYN_REPLY:
    case FrameType.HEADERS: {
      const name = type === FrameType.SYN_REPLY ? 'SYN_REPLY' : 'HEADERS';
      requireLength(payload, 4, name);
      return { type: type === FrameType.SYN_REPLY ? 'syn_reply' : 'headers', streamId: nonZeroStream(streamId(), name), fin, headerBlock: payload.subarray(4) };
    }
    case FrameType.RST_STREAM:
      requireLength(payload, 8, 'RST_STREAM', true);
      return { type: 'rst_stream', streamId: nonZeroStream(streamId(), 'RST_STREAM'), status: payload.readUInt32BE(4) };
    case FrameType.PING:
      requireLength(payload, 4, 'PING', true);
      return { type: 'ping', id: payload.readUInt32BE(0) };
    case FrameType.GOAWAY:
      requireLength(payload, 8, 'GOAWAY', true);
      return { type: 'goaway', lastGoodStreamId: streamId(), status: payload.readUInt32BE(4) };
    case FrameType.WINDOW_UPDATE:
      requireLength(payload, 8, 'WINDOW_UPDATE', true);
      return { type: 'window_update', streamId: streamId(), delta: payload.readUInt32BE(4) & 0x7fff_ffff };
    case FrameType.SETTINGS:
      requireLength(payload, 4, 'SETTINGS');
      if (payload.length !== 4 + 8 * payload.readUInt32BE(0)) throw new SpdyProtocolError('SETTINGS frame length does not match its entry count');
      return { type: 'settings' };
    default:
      // The spec says unknown control frames are ignored.
      return { type: 'unknown' };
  }
}

/**
 * Cuts a byte stream into frames. Bytes are kept as received and joined once per frame, so a large
 * data frame arriving in many small chunks is not copied over and over.
 */
export class FrameReader {
  readonly #chunks: Buffer[] = [];
  #length = 0;
  readonly #maxControl: number;
  /** The highest stream id a SYN_STREAM (or, read by a client, SYN_REPLY) named: DATA beyond it is for a stream never opened. */
  #highestStream = 0;

  /**
   * @param maxControl largest control frame payload accepted, in bytes (they carry compressed
   *   header blocks, so this also bounds what one block inflates to). Data frames may use the whole
   *   24-bit length, but one for a stream never opened is refused at its header rather than
   *   waiting for up to 16 MiB of what may be garbage.
   */
  constructor(maxControl: number) {
    this.#maxControl = maxControl;
  }

  /** Adds received bytes and returns the frames they complete; throws SpdyProtocolError. */
  push(chunk: Buffer): Frame[] {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.#length < HEADER_SIZE) return frames;
      const head = this.#peek(HEADER_SIZE);
      const length = head.readUInt32BE(4) & MAX_FRAME_PAYLOAD;
      const first = head.readUInt32BE(0);
      if ((first & 0x8000_0000) !== 0 && length > this.#maxControl) {
        throw new SpdyProtocolError(`control frame of ${length} bytes exceeds the limit of ${this.#maxControl}`);
      }
      if ((first & 0x8000_0000) === 0 && first > this.#highestStream) throw new SpdyProtocolError(`DATA frame for stream ${first}, which was never opened`);
      if (this.#length < HEADER_SIZE + length) return frames;
      const all = this.#take(HEADER_SIZE + length);
      const flags = all[4] ?? 0;
      const payload = all.subarray(HEADER_SIZE);
      if ((first & 0x8000_0000) !== 0) {
        const frame = parseControl((first >>> 16) & 0x7fff, first & 0xffff, flags, payload);
        if (frame.type === 'syn_stream' || frame.type === 'syn_reply') this.#highestStream = Math.max(this.#highestStream, frame.streamId);
        frames.push(frame);
      } else {
        frames.push({ type: 'data', streamId: nonZeroStream(first, 'DATA'), fin: (flags & FLAG_FIN) !== 0, data: payload });
      }
    }
  }

  #peek(size: number): Buffer {
    if ((this.#chunks[0]?.length ?? 0) < size) this.#join();
    return this.#chunks[0]!.subarray(0, size);
  }

  #take(size: number): Buffer {
    if ((this.#chunks[0]?.length ?? 0) < size) this.#join();
    const first = this.#chunks[0]!;
    const taken = first.subarray(0, size);
    if (first.length === size) this.#chunks.shift();
    else this.#chunks[0] = first.subarray(size);
    this.#length -= size;
    return taken;
  }

  #join(): void {
    const joined = Buffer.concat(this.#chunks);
    this.#chunks.length = 0;
    this.#chunks.push(joined);
  }
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  frame.writeUInt32BE((0x8000 | SPDY_VERSION) * 0x1_0000 + type, 0);
  frame.writeUInt32BE(flags * 0x100_0000 + payload.length, 4);
  payload.copy(frame, HEADER_SIZE);
  return frame;
}

function words(...values: number[]): Buffer {
  const buffer = Buffer.allocUnsafe(values.length * 4);
  values.forEach((value, index) => buffer.writeUInt32BE(value >>> 0, index * 4));
  return buffer;
}

/** DATA frames for `data`, split at the 24-bit length limit; an empty buffer with `fin` half-closes. */
export function encodeData(streamId: number, data: Uint8Array, fin: boolean): Buffer[] {
  const frames: Buffer[] = [];
  let offset = 0;
  do {
    const part = data.subarray(offset, offset + MAX_FRAME_PAYLOAD);
    offset += part.length;
    const last = offset >= data.length;
    const frame = Buffer.allocUnsafe(HEADER_SIZE + part.length);
    frame.writeUInt32BE(streamId & 0x7fff_ffff, 0);
    frame.writeUInt32BE((last && fin ? FLAG_FIN : 0) * 0x100_0000 + part.length, 4);
    frame.set(part, HEADER_SIZE);
    frames.push(frame);
  } while (offset < data.length);
  return frames;
}

export function encodeSynReply(streamId: number, compressedHeaders: Buffer, fin = false): Buffer {
  return controlFrame(FrameType.SYN_REPLY, fin ? FLAG_FIN : 0, Buffer.concat([words(streamId), compressedHeaders]));
}

export function encodeRstStream(streamId: number, status: number): Buffer {
  return controlFrame(FrameType.RST_STREAM, 0, words(streamId, status));
}

export function encodePing(id: number): Buffer {
  return controlFrame(FrameType.PING, 0, words(id));
}

export function encodeGoAway(lastGoodStreamId: number, status: number): Buffer {
  return controlFrame(FrameType.GOAWAY, 0, words(lastGoodStreamId, status));
}

/** SYN_STREAM, as clients send it (used by tests driving the fake). */
export function encodeSynStream(streamId: number, compressedHeaders: Buffer, fin = false): Buffer {
  return controlFrame(FrameType.SYN_STREAM, fin ? FLAG_FIN : 0, Buffer.concat([words(streamId, 0), Buffer.of(0, 0), compressedHeaders]));
}
