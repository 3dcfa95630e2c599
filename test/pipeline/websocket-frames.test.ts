import { describe, expect, it } from 'vitest';
import { createFrameScanner, MAX_SCANNED_PAYLOAD } from '../../src/pipeline/websocket-frames.ts';

function frame(opcode: number, payload: Buffer, mask?: Buffer): Buffer {
  const len = payload.length;
  const lengthBytes = len < 126 ? Buffer.alloc(0) : len < 65536 ? Buffer.alloc(2) : Buffer.alloc(8);
  if (len >= 126 && len < 65536) lengthBytes.writeUInt16BE(len);
  if (len >= 65536) lengthBytes.writeBigUInt64BE(BigInt(len));
  const len7 = len < 126 ? len : len < 65536 ? 126 : 127;
  const head = Buffer.from([0x80 | opcode, (mask ? 0x80 : 0) | len7]);
  const body = mask ? Buffer.from(payload.map((b, i) => b ^ mask[i & 3]!)) : payload;
  return Buffer.concat([head, lengthBytes, mask ?? Buffer.alloc(0), body]);
}

function scanAll(bytes: Buffer, step: number, withPayload = true): [number, string | undefined][] {
  const seen: [number, string | undefined][] = [];
  const scan = createFrameScanner((op, payload) => seen.push([op, payload?.toString('latin1')]), withPayload);
  for (let i = 0; i < bytes.length; i += step) scan(bytes.subarray(i, i + step));
  return seen;
}

describe('createFrameScanner', () => {
  const mask = Buffer.from([1, 2, 3, 4]);
  const frames = [
    frame(2, Buffer.from('\x01hello')),
    frame(1, Buffer.from('x'.repeat(300)), mask),
    frame(2, Buffer.alloc(0)),
    frame(2, Buffer.alloc(70_000, 7), mask),
    frame(8, Buffer.from([0x03, 0xe8])),
  ];
  const stream = Buffer.concat(frames);
  const expected: [number, string | undefined][] = [
    [2, '\x01hello'],
    [1, 'x'.repeat(300)],
    [2, ''],
    [2, Buffer.alloc(70_000, 7).toString('latin1')],
    [8, '\x03\xe8'],
  ];

  it.each([1, 2, 3, 7, 13, 1000, stream.length])('reads frames split every %i bytes, unmasking client frames', (step) => {
    expect(scanAll(stream, step)).toEqual(expected);
  });

  it('reports opcodes without payloads when not asked for them', () => {
    expect(scanAll(stream, 5, false).map(([op, p]) => [op, p])).toEqual(expected.map(([op]) => [op, undefined]));
  });

  it('hands over no payload larger than its bound, and keeps reading after it', () => {
    const big = Buffer.concat([frame(2, Buffer.alloc(MAX_SCANNED_PAYLOAD + 1)), frame(8, Buffer.alloc(0))]);
    expect(scanAll(big, 65536)).toEqual([[2, undefined], [8, '']]);
  });

  it('stops for good at a length no stream can have, and never throws on garbage', () => {
    const absurd = Buffer.from([0x82, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(scanAll(Buffer.concat([absurd, frame(8, Buffer.alloc(0))]), 3)).toEqual([]);
    for (let n = 0; n < 50; n++) expect(() => scanAll(Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37 + n * 11) & 0xff)), 5)).not.toThrow();
  });
});

describe('createFrameScanner, fragmented messages', () => {
  const fragment = (fin: boolean, opcode: number, payload: string, mask?: Buffer) => {
    const whole = frame(opcode, Buffer.from(payload), mask);
    if (!fin) whole[0]! &= 0x7f;
    return whole;
  };

  it('joins fragments into one message of the first opcode, a control frame between them passing on its own', () => {
    const mask = Buffer.from([9, 8, 7, 6]);
    const bytes = Buffer.concat([fragment(false, 2, '\x01hel', mask), frame(9, Buffer.from('ping'), mask), fragment(false, 0, 'lo ', mask), fragment(true, 0, 'world', mask)]);
    for (const step of [1, 4, bytes.length]) expect(scanAll(bytes, step)).toEqual([[9, 'ping'], [2, '\x01hello world']]);
  });

  it('reads a continuation without a start as a message of its own, never throwing', () => {
    expect(scanAll(fragment(true, 0, 'orphan'), 3)).toEqual([[2, 'orphan']]);
  });
});
