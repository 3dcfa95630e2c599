import { badRequest } from './status.ts';

/** Protobuf-encoded objects start with this magic (kubectl sends built-in types as protobuf). */
export const PROTOBUF_MAGIC = Buffer.from('k8s\0', 'latin1');

/** The fields of one protobuf message: number → values (bytes for length-delimited fields, numbers for varints). */
export type ProtobufFields = ReadonlyMap<number, (Buffer | number)[]>;

/** A message without fields (an absent one). */
export const EMPTY_MESSAGE: ProtobufFields = new Map();

function malformed(): never {
  throw badRequest('the protobuf body is malformed');
}

function readVarint(buffer: Buffer, start: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  let position = start;
  // At most 10 bytes; values past 2^53 are not needed for the fields the fake reads.
  while (position < buffer.length && position - start < 10) {
    const byte = buffer[position++] ?? 0;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return { value, next: position };
    shift += 7;
  }
  return malformed();
}

/** Decodes the wire format of one message (not its schema): enough to read the strings of review requests. */
export function readMessage(buffer: Buffer): ProtobufFields {
  const fields = new Map<number, (Buffer | number)[]>();
  let position = 0;
  while (position < buffer.length) {
    const tag = readVarint(buffer, position);
    position = tag.next;
    const number = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    let value: Buffer | number;
    if (wireType === 0) {
      const varint = readVarint(buffer, position);
      [value, position] = [varint.value, varint.next];
    } else if (wireType === 2) {
      const length = readVarint(buffer, position);
      if (length.next + length.value > buffer.length) malformed();
      value = buffer.subarray(length.next, length.next + length.value);
      position = length.next + length.value;
    } else if (wireType === 1 || wireType === 5) {
      const size = wireType === 1 ? 8 : 4;
      if (position + size > buffer.length) malformed();
      value = buffer.subarray(position, position + size);
      position += size;
    } else {
      malformed();
    }
    const values = fields.get(number) ?? [];
    values.push(value);
    fields.set(number, values);
  }
  return fields;
}

export function stringField(fields: ProtobufFields, number: number): string | undefined {
  const value = fields.get(number)?.at(-1);
  return Buffer.isBuffer(value) ? value.toString('utf8') : undefined;
}

export function stringsField(fields: ProtobufFields, number: number): string[] {
  return (fields.get(number) ?? []).filter((value): value is Buffer => Buffer.isBuffer(value)).map((value) => value.toString('utf8'));
}

export function messageField(fields: ProtobufFields, number: number): ProtobufFields | undefined {
  const value = fields.get(number)?.at(-1);
  return Buffer.isBuffer(value) ? readMessage(value) : undefined;
}

/** Unwraps `k8s\0` + runtime.Unknown: the type and the raw bytes of the object. */
export function readEnvelope(body: Buffer): { apiVersion: string; kind: string; raw: Buffer } {
  if (!body.subarray(0, 4).equals(PROTOBUF_MAGIC)) malformed();
  const unknown = readMessage(body.subarray(4));
  const typeMeta = messageField(unknown, 1) ?? EMPTY_MESSAGE;
  const raw = unknown.get(2)?.at(-1);
  return { apiVersion: stringField(typeMeta, 1) ?? '', kind: stringField(typeMeta, 2) ?? '', raw: Buffer.isBuffer(raw) ? raw : Buffer.alloc(0) };
}
