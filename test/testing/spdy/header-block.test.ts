import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SPDY3_DICTIONARY } from '../../../src/testing/spdy/dictionary.ts';
import { decodeHeaderBlock, encodeHeaderBlock, HeaderCompressor, HeaderDecompressor } from '../../../src/testing/spdy/header-block.ts';
import { SpdyProtocolError } from '../../../src/testing/spdy/frames.ts';

describe('SPDY/3 header blocks', () => {
  it('round-trips through one compression context per direction, block after block', async () => {
    const compressor = new HeaderCompressor();
    const decompressor = new HeaderDecompressor(64 * 1024);
    try {
      for (const requestId of ['0', '1', '2']) {
        const block = await compressor.compress({ streamType: 'data', port: '8080', requestID: requestId });
        const headers = await decompressor.decompress(block);
        expect(Object.fromEntries(headers)).toEqual({ streamtype: ['data'], port: ['8080'], requestid: [requestId] });
      }
    } finally {
      compressor.close();
      decompressor.close();
    }
  });

  it('splits NUL-separated values', () => {
    expect(decodeHeaderBlock(encodeHeaderBlock({ accept: 'a\0b' })).get('accept')).toEqual(['a', 'b']);
  });

  it.each([
    ['a truncated block', encodeHeaderBlock({ port: '8080' }).subarray(0, 10), /header block ends inside/],
    ['trailing bytes', Buffer.concat([encodeHeaderBlock({ port: '1' }), Buffer.from('x')]), /1 bytes after its last header/],
    ['an uppercase name', encodeHeaderBlock({ port: '1' }).fill('P', 8, 9), /not lowercase/],
    ['a duplicated name', Buffer.concat([Buffer.from([0, 0, 0, 2]), encodeHeaderBlock({ a: '1' }).subarray(4), encodeHeaderBlock({ a: '2' }).subarray(4)]), /header a appears twice/],
    ['too many headers', Buffer.from([0, 0, 1, 0]), /256 headers, at most 64/],
  ])('refuses %s', (_name, block, message) => {
    expect(() => decodeHeaderBlock(block)).toThrow(SpdyProtocolError);
    expect(() => decodeHeaderBlock(block)).toThrow(message);
  });

  it('refuses bytes that are not zlib with the SPDY dictionary, and blocks that inflate past the limit', async () => {
    await expect(new HeaderDecompressor(1024).decompress(Buffer.from('not zlib at all'))).rejects.toThrow(/header block does not decompress/);
    const big = deflateSync(encodeHeaderBlock({ big: 'x'.repeat(5000) }), { dictionary: SPDY3_DICTIONARY });
    await expect(new HeaderDecompressor(1024).decompress(big.subarray(0, big.length - 4))).rejects.toThrow(/inflates to more than 1024 bytes/);
  });
});
