import { Duplex } from 'node:stream';
import { encodeData, encodeGoAway, encodePing, encodeRstStream, encodeSynReply, FrameReader, GoAwayStatus, RstStatus, SpdyProtocolError, type Frame } from './frames.ts';
import { HeaderCompressor, HeaderDecompressor, type SpdyHeaders } from './header-block.ts';

/** Largest control frame accepted: kubectl's are about a hundred bytes. */
const MAX_CONTROL_FRAME = 16 * 1024;
/** Largest decompressed header block accepted. */
const MAX_HEADER_BLOCK = 64 * 1024;
/** Streams one connection may have open at once; more are refused. */
const MAX_STREAMS = 100;

/** What a {@link SpdyConnection} tells its owner. */
export interface SpdyConnectionHandlers {
  /** Decides whether a new stream is accepted (answered SYN_REPLY) or reset. */
  accept(headers: SpdyHeaders): boolean;
  /** Called with each accepted stream, after its SYN_REPLY went out. */
  onStream(stream: SpdyStream): void;
  /** Called once when the connection is gone. */
  onClose?(): void;
}

/**
 * One stream of a SPDY connection: the readable side carries the client's DATA frames, the
 * writable side sends ours; ending it sends FIN, destroying it before both sides finished sends
 * RST_STREAM. Reading slowly pauses the whole connection (as spdystream, kubectl's library, does),
 * so a consumer that stops reading bounds what the fake buffers.
 */
export class SpdyStream extends Duplex {
  readonly id: number;
  readonly headers: SpdyHeaders;
  readonly #connection: SpdyConnection;
  remoteClosed = false;
  localClosed = false;

  constructor(connection: SpdyConnection, id: number, headers: SpdyHeaders) {
    super({ allowHalfOpen: true });
    // A stream fails only when its connection does, and a peer going away is routine for the fake.
    this.on('error', () => undefined);
    this.#connection = connection;
    this.id = id;
    this.headers = headers;
  }

  /** The first value of a header (names are lowercase on the wire). */
  header(name: string): string | undefined {
    return this.headers.get(name.toLowerCase())?.[0];
  }

  override _read(): void {
    this.#connection.resumeInput(this);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#connection.send(encodeData(this.id, chunk, false), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.localClosed = true;
    this.#connection.send(encodeData(this.id, Buffer.alloc(0), true), callback);
    this.#connection.streamClosed(this);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!(this.localClosed && this.remoteClosed)) this.#connection.reset(this, RstStatus.CANCEL);
    callback(error);
  }
}

/**
 * The server side of a SPDY/3.1 connection over any byte stream (an upgraded socket, or a
 * WebSocket tunnel). It accepts the streams the client opens, answers PINGs and GOAWAY, and ignores
 * flow control, as kubectl's SPDY library never sends WINDOW_UPDATE. Malformed input ends the
 * connection with GOAWAY PROTOCOL_ERROR; nothing the peer sends throws.
 */
export class SpdyConnection {
  readonly #transport: Duplex;
  readonly #handlers: SpdyConnectionHandlers;
  readonly #reader = new FrameReader(MAX_CONTROL_FRAME);
  readonly #compressor = new HeaderCompressor();
  readonly #decompressor = new HeaderDecompressor(MAX_HEADER_BLOCK);
  readonly #streams = new Map<number, SpdyStream>();
  readonly #queue: Frame[] = [];
  #busy = false;
  #blockedBy: SpdyStream | undefined;
  #lastStreamId = 0;
  #goingAway = false;
  #closed = false;

  constructor(transport: Duplex, head: Buffer, handlers: SpdyConnectionHandlers) {
    this.#transport = transport;
    this.#handlers = handlers;
    transport.on('data', (chunk: Buffer) => this.#receive(chunk));
    transport.on('error', () => transport.destroy());
    transport.once('close', () => this.#teardown());
    if (head.length > 0) this.#receive(head);
  }

  /** Ends the connection politely: GOAWAY, then the end of the byte stream. */
  close(): void {
    if (this.#closed || this.#transport.writableEnded) return;
    this.#transport.end(encodeGoAway(this.#lastStreamId, GoAwayStatus.OK));
  }

  /** Writes frames; `callback` runs once the transport took them (its backpressure). */
  send(frames: Buffer[], callback: (error?: Error | null) => void = () => undefined): void {
    if (this.#closed || !this.#transport.writable) {
      callback();
      return;
    }
    frames.forEach((frame, index) => this.#transport.write(frame, index === frames.length - 1 ? () => callback() : undefined));
  }

  reset(stream: SpdyStream, status: number): void {
    if (this.#streams.get(stream.id) !== stream) return;
    this.#streams.delete(stream.id);
    this.send([encodeRstStream(stream.id, status)]);
    this.#afterStreamGone();
  }

  streamClosed(stream: SpdyStream): void {
    if (!(stream.localClosed && stream.remoteClosed) || this.#streams.get(stream.id) !== stream) return;
    this.#streams.delete(stream.id);
    this.#afterStreamGone();
  }

  resumeInput(stream: SpdyStream): void {
    if (this.#blockedBy !== stream) return;
    this.#blockedBy = undefined;
    void this.#drain();
  }

  #receive(chunk: Buffer): void {
    if (this.#closed) return;
    try {
      this.#queue.push(...this.#reader.push(chunk));
    } catch (error) {
      this.#fail(error);
      return;
    }
    void this.#drain();
    if (this.#queue.length > 0) this.#transport.pause();
  }

  async #drain(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      while (this.#queue.length > 0 && !this.#blockedBy && !this.#closed) {
        const frame = this.#queue.shift()!;
        await this.#handle(frame);
      }
    } catch (error) {
      this.#fail(error);
    } finally {
      this.#busy = false;
    }
    if (this.#queue.length === 0 && !this.#closed) this.#transport.resume();
  }

  async #handle(frame: Frame): Promise<void> {
    switch (frame.type) {
      case 'syn_stream':
        return this.#open(frame.streamId, frame.fin, frame.headerBlock);
      case 'syn_reply':
      case 'headers':
        // Decompressed only to keep the zlib stream in step: the fake has nothing to do with them.
        await this.#decompressor.decompress(frame.headerBlock);
        return;
      case 'data':
        return this.#data(frame.streamId, frame.data, frame.fin);
      case 'rst_stream': {
        const stream = this.#streams.get(frame.streamId);
        if (!stream) return;
        this.#streams.delete(frame.streamId);
        stream.localClosed = stream.remoteClosed = true;
        stream.destroy();
        this.#afterStreamGone();
        return;
      }
      case 'ping':
        // Odd ids are the client's; even ones would answer pings the fake never sends.
        if (frame.id % 2 === 1) this.send([encodePing(frame.id)]);
        return;
      case 'goaway':
        this.#goingAway = true;
        this.#afterStreamGone();
        return;
      default:
        return;
    }
  }

  async #open(id: number, fin: boolean, headerBlock: Buffer): Promise<void> {
    // Every block goes through the decompressor, even of a stream that is refused.
    const headers = await this.#decompressor.decompress(headerBlock);
    if (id % 2 === 0 || id <= this.#lastStreamId) {
      throw new SpdyProtocolError(`stream id ${id} is not an odd number above the last one (${this.#lastStreamId})`);
    }
    this.#lastStreamId = id;
    if (this.#goingAway || this.#streams.size >= MAX_STREAMS) {
      this.send([encodeRstStream(id, RstStatus.REFUSED_STREAM)]);
      return;
    }
    if (!this.#handlers.accept(headers)) {
      this.send([encodeRstStream(id, RstStatus.CANCEL)]);
      return;
    }
    const reply = encodeSynReply(id, await this.#compressor.compress({}));
    if (this.#closed) return;
    const stream = new SpdyStream(this, id, headers);
    this.#streams.set(id, stream);
    this.send([reply]);
    if (fin) this.#remoteFin(stream);
    this.#handlers.onStream(stream);
  }

  #data(id: number, data: Buffer, fin: boolean): void {
    const stream = this.#streams.get(id);
    // Data for a stream that was reset or refused is dropped, as the client may not know yet.
    if (!stream) return;
    if (stream.remoteClosed) {
      this.reset(stream, RstStatus.STREAM_IN_USE);
      stream.destroy();
      return;
    }
    if (data.length > 0 && !stream.push(data)) this.#blockedBy = stream;
    if (fin) this.#remoteFin(stream);
  }

  #remoteFin(stream: SpdyStream): void {
    stream.remoteClosed = true;
    stream.push(null);
    this.streamClosed(stream);
  }

  #afterStreamGone(): void {
    if (this.#goingAway && this.#streams.size === 0) this.close();
  }

  #fail(error: unknown): void {
    if (this.#closed) return;
    const status = error instanceof SpdyProtocolError ? GoAwayStatus.PROTOCOL_ERROR : GoAwayStatus.INTERNAL_ERROR;
    if (this.#transport.writable) this.#transport.end(encodeGoAway(this.#lastStreamId, status));
    this.#teardown();
    // A peer that keeps sending after GOAWAY is not waited for.
    setTimeout(() => this.#transport.destroy(), 1000).unref();
  }

  #teardown(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    for (const stream of this.#streams.values()) {
      stream.localClosed = stream.remoteClosed = true;
      stream.destroy();
    }
    this.#streams.clear();
    this.#compressor.close();
    this.#decompressor.close();
    this.#handlers.onClose?.();
  }
}
