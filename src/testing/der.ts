/**
 * A minimal ASN.1 DER encoder: just the types an X.509 v3 certificate needs.
 * Every function returns the complete TLV (tag, length, value) encoding.
 */

const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.of(length);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Encodes one element with an arbitrary tag byte. */
function tlv(tag: number, value: Uint8Array): Buffer {
  return Buffer.concat([Buffer.of(tag), encodeLength(value.length), value]);
}

export function sequence(...items: Uint8Array[]): Buffer {
  return tlv(TAG.sequence, Buffer.concat(items));
}

/** A SET of a single element; DER would require sorting for several, which certificates here never need. */
export function set(item: Uint8Array): Buffer {
  return tlv(TAG.set, item);
}

export function boolean(value: boolean): Buffer {
  return tlv(TAG.boolean, Buffer.of(value ? 0xff : 0x00));
}

/** An INTEGER from unsigned big-endian bytes (a leading zero is added when the top bit is set). */
export function unsignedInteger(bytes: Uint8Array): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = Buffer.from(bytes.subarray(start));
  const first = trimmed[0] ?? 0;
  return tlv(TAG.integer, first & 0x80 || trimmed.length === 0 ? Buffer.concat([Buffer.of(0), trimmed]) : trimmed);
}

export function smallInteger(value: number): Buffer {
  return unsignedInteger(Buffer.of(value));
}

export function objectIdentifier(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const [first = 0, second = 0, ...rest] = parts;
  const bytes: number[] = [first * 40 + second];
  for (const part of rest) {
    const chunk: number[] = [part & 0x7f];
    for (let value = Math.floor(part / 128); value > 0; value = Math.floor(value / 128)) {
      chunk.unshift(0x80 | (value & 0x7f));
    }
    bytes.push(...chunk);
  }
  return tlv(TAG.oid, Buffer.from(bytes));
}

export function utf8String(value: string): Buffer {
  return tlv(TAG.utf8String, Buffer.from(value, 'utf8'));
}

export function octetString(value: Uint8Array): Buffer {
  return tlv(TAG.octetString, value);
}

/** A BIT STRING whose content is whole bytes (keys, signatures). */
export function bitString(value: Uint8Array): Buffer {
  return tlv(TAG.bitString, Buffer.concat([Buffer.of(0), value]));
}

/**
 * A named-bit BIT STRING (key usage): bit 0 is the most significant bit of the first byte and,
 * as DER requires, trailing zero bits are dropped and counted in the "unused bits" byte.
 */
export function namedBits(bits: readonly number[]): Buffer {
  const length = Math.max(...bits) + 1;
  const bytes = Buffer.alloc(Math.ceil(length / 8));
  for (const bit of bits) bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) | (0x80 >> (bit & 7));
  return tlv(TAG.bitString, Buffer.concat([Buffer.of(bytes.length * 8 - length), bytes]));
}

/** RFC 5280: UTCTime through 2049, GeneralizedTime from 2050 on. */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z';
  return date.getUTCFullYear() < 2050
    ? tlv(TAG.utcTime, Buffer.from(digits.slice(2), 'ascii'))
    : tlv(TAG.generalizedTime, Buffer.from(digits, 'ascii'));
}

/** A constructed, context-specific tag `[n]` wrapping a complete element (EXPLICIT tagging). */
export function explicit(tagNumber: number, element: Uint8Array): Buffer {
  return tlv(0xa0 | tagNumber, element);
}

/** A primitive, context-specific tag `[n]` replacing the tag of a primitive value (IMPLICIT tagging). */
export function implicit(tagNumber: number, value: Uint8Array): Buffer {
  return tlv(0x80 | tagNumber, value);
}
