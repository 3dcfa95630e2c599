import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SPDY3_DICTIONARY } from '../../../src/testing/spdy/dictionary.ts';
import { encodeData, encodeGoAway, encodePing, encodeRstStream, encodeSynReply, encodeSynStream, FrameReader, SpdyProtocolError } from '../../../src/testing/spdy/frames.ts';

function control(type: number, payload: Buffer, { version = 3, flags = 0 } = {}): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | version, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(flags * 0x100_0000 + payload.length, 4);
  return Buffer.concat([head, payload]);
}

describe('SPDY/3 frames', () => {
  it('uses the dictionary of the spec (zlib names it by its Adler-32, 0xe3c6a7c2)', () => {
    expect(SPDY3_DICTIONARY).toHaveLength(1423);
    expect(deflateSync(Buffer.from('x'), { dictionary: SPDY3_DICTIONARY }).readUInt32BE(2)).toBe(0xe3c6a7c2);
  });

  it('reads back what it writes, however the bytes are split', () => {
    const bytes = Buffer.concat([
      encodeSynStream(1, Buffer.from('block'), true),
      encodeSynReply(1, Buffer.from('reply')),
      ...encodeData(1, Buffer.from('hello'), true),
      encodeRstStream(5, 5),
      encodePing(7),
      encodeGoAway(9, 0),
    ]);
    for (const size of [1, 3, 8, 100, bytes.length]) {
      const reader = new FrameReader(1024);
      const frames = [];
      for (let offset = 0; offset < bytes.length; offset += size) frames.push(...reader.push(bytes.subarray(offset, offset + size)));
      expect(frames).toEqual([
        { type: 'syn_stream', streamId: 1, fin: true, headerBlock: Buffer.from('block') },
        { type: 'syn_reply', streamId: 1, fin: false, headerBlock: Buffer.from('reply') },
        { type: 'data', streamId: 1, fin: true, data: Buffer.from('hello') },
        { type: 'rst_stream', streamId: 5, status: 5 },
        { type: 'ping', id: 7 },
        { type: 'goaway', lastGoodStreamId: 9, status: 0 },
      ]);
    }
  });

  it('refuses DATA for a stream no SYN_STREAM opened, at its header', () => {
    const reader = new FrameReader(1024);
    reader.push(encodeSynStream(5, Buffer.from('block')));
    expect(() => reader.push(Buffer.from([0, 0, 0, 7, 0, 0x20, 0, 0]))).toThrow('DATA frame for stream 7, which was never opened');
  });

  it('splits data larger than the 24-bit length into several frames, FIN on the last', () => {
    const frames = encodeData(1, Buffer.alloc(0x100_0000 + 10), true);
    expect(frames.map((frame) => [frame.readUInt32BE(4) & 0xff_ffff, frame[4]])).toEqual([[0xff_ffff, 0], [11, 1]]);
    expect(encodeData(1, Buffer.alloc(0), true)).toHaveLength(1);
  });

  it('ignores unknown control frames, SETTINGS and WINDOW_UPDATE', () => {
    const settings = Buffer.alloc(12);
    settings.writeUInt32BE(1, 0);
    const frames = new FrameReader(1024).push(Buffer.concat([control(4, settings), control(0x42, Buffer.alloc(3)), control(9, Buffer.alloc(8))]));
    expect(frames.map((frame) => frame.type)).toEqual(['settings', 'unknown', 'window_update']);
  });

  it.each([
    ['another SPDY version', control(6, Buffer.alloc(4), { version: 2 }), /unsupported SPDY version 2/],
    ['a short SYN_STREAM', control(1, Buffer.alloc(6)), /SYN_STREAM frame has 6 payload bytes, expected at least 10/],
    ['a PING of the wrong size', control(6, Buffer.alloc(5)), /PING frame has 5 payload bytes, expected 4/],
    ['a RST_STREAM for stream 0', control(3, Buffer.alloc(8)), /RST_STREAM frame for stream 0/],
    ['DATA for stream 0', Buffer.from([0, 0, 0, 0, 0, 0, 0, 1, 9]), /DATA frame for stream 0/],
    ['SETTINGS whose count lies', control(4, Buffer.from([0, 0, 0, 9])), /SETTINGS frame length does not match/],
    ['a control frame over the limit', control(1, Buffer.alloc(2048)), /control frame of 2048 bytes exceeds the limit of 1024/],
  ])('refuses %s as a protocol error', (_name, bytes, message) => {
    expect(() => new FrameReader(1024).push(bytes)).toThrow(SpdyProtocolError);
    expect(() => new FrameReader(1024).push(bytes)).toThrow(message);
  });
});
