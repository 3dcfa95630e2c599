import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.ts';
import { SpdyProtocolError } from './frames.ts';

/**
 * SPDY/3 header blocks: `count(32)`, then per header `name length(32) name value length(32) value`,
 * several values of one name separated by NUL. Every header block of one direction of a
 * connection goes through one zlib stream that uses the SPDY dictionary, flushed (Z_SYNC_FLUSH)
 * after each block.
 */

/** Header names (lowercase, as SPDY requires) to their values. */
export type SpdyHeaders = ReadonlyMap<string, readonly string[]>;

/** Most headers one block may carry; SPDY streams of kubectl carry three. */
const MAX_HEADERS = 64;

export function encodeHeaderBlock(headers: Readonly<Record<string, string>>): Buffer {
  const parts: Buffer[] = [];
  const u32 = (value: number) => {
    const buffer = Buffer.allocUnsafe(4);
    buffer.writeUInt32BE(value);
    return buffer;
  };
  const entries = Object.entries(headers);
  parts.push(u32(entries.length));
  for (const [name, value] of entries) {
    const nameBytes = Buffer.from(name.toLowerCase(), 'utf8');
    const valueBytes = Buffer.from(value, 'utf8');
    parts.push(u32(nameBytes.length), nameBytes, u32(valueBytes.length), valueBytes);
  }
  return Buffer.concat(parts);
}

/** Parses a decompressed block; it must hold exactly one well-formed block. */
export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  let offset = 0;
  const u32 = (what: string) => {
    if (offset + 4 > block.length) throw new SpdyProtocolError(`header block ends inside ${what}`);
    const value = block.readUInt32BE(offset);
    offset += 4;
    return value;
  };
  const bytes = (length: number, what: string) => {
    if (offset + length > block.length) throw new SpdyProtocolError(`header block ends inside ${what}`);
    const value = block.subarray(offset, offset + length);
    offset += length;
    return value;
  };
  const count = u32('the header count');
  if (count > MAX_HEADERS) throw new SpdyProtocolError(`header block has ${count} headers, at most ${MAX_HEADERS} are accepted`);
  const headers = new Map<string, string[]>();
  for (let index = 0; index < count; index++) {
    const name = bytes(u32('a name length'), 'a header name').toString('utf8');
    if (name === '' || name !== name.toLowerCase()) throw new SpdyProtocolError(`header name ${JSON.stringify(name)} is empty or not lowercase`);
    if (headers.has(name)) throw new SpdyProtocolError(`header ${name} appears twice`);
    headers.set(name, bytes(u32('a value length'), 'a header value').toString('utf8').split('\0'));
  }
  if (offset !== block.length) throw new SpdyProtocolError(`header block has ${block.length - offset} bytes after its last header`);
  return headers;
}

/** Runs blocks through one zlib stream, one at a time, each followed by a sync flush. */
abstract class HeaderCodec<Z extends Deflate | Inflate> {
  protected readonly zlib: Z;
  #queue: Promise<unknown> = Promise.resolve();
  #output: Buffer[] = [];
  #failure: Error | undefined;
  /** Fails the block in progress: after an error, zlib calls no flush callback. */
  #abandon: (error: Error) => void = () => undefined;
  readonly #limit: number;

  protected constructor(zlib: Z, limit: number) {
    this.zlib = zlib;
    this.#limit = limit;
    zlib.on('data', (chunk: Buffer) => this.#output.push(chunk));
    zlib.on('error', (error: Error) => {
      this.#failure = error;
      this.#abandon(error);
    });
  }

  protected run(block: Buffer): Promise<Buffer> {
    const result = this.#queue.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          if (this.#failure) return reject(this.#failure);
          this.#abandon = reject;
          this.zlib.write(block);
          // zlib pushes a flush's output before calling its callback.
          this.zlib.flush(constants.Z_SYNC_FLUSH, () => {
            const output = Buffer.concat(this.#output.splice(0));
            if (this.#failure) reject(this.#failure);
            else if (output.length > this.#limit) reject(new SpdyProtocolError(`a header block inflates to more than ${this.#limit} bytes`));
            else resolve(output);
          });
        }),
    );
    this.#queue = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.#abandon(new Error('the connection closed'));
    this.zlib.close();
  }
}

/** Compresses the header blocks this side sends. */
export class HeaderCompressor extends HeaderCodec<Deflate> {
  constructor() {
    super(createDeflate({ dictionary: SPDY3_DICTIONARY }), Number.MAX_SAFE_INTEGER);
  }

  compress(headers: Readonly<Record<string, string>>): Promise<Buffer> {
    return this.run(encodeHeaderBlock(headers));
  }
}

/** Decompresses the header blocks the peer sends. */
export class HeaderDecompressor extends HeaderCodec<Inflate> {
  /** @param limit largest decompressed block, in bytes. */
  constructor(limit: number) {
    super(createInflate({ dictionary: SPDY3_DICTIONARY }), limit);
  }

  async decompress(block: Buffer): Promise<SpdyHeaders> {
    try {
      return decodeHeaderBlock(await this.run(block));
    } catch (error) {
      if (error instanceof SpdyProtocolError) throw error;
      throw new SpdyProtocolError(`header block does not decompress: ${(error as Error).message}`);
    }
  }
}
