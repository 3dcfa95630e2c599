import { describe, expect, it } from 'vitest';
import { StatusError } from '../../src/testing/status.ts';
import { messageField, readEnvelope, readMessage, stringField, stringsField } from '../../src/testing/protobuf.ts';

/** Field `number` as a length-delimited value. */
const bytes = (number: number, value: Buffer | string) => {
  const payload = Buffer.from(value);
  return Buffer.concat([Buffer.from([(number << 3) | 2, payload.length]), payload]);
};

describe('protobuf wire format', () => {
  it('reads strings, repeated strings, nested messages and varints', () => {
    const message = Buffer.concat([bytes(1, 'default'), bytes(4, 'a'), bytes(4, 'b'), bytes(2, bytes(1, 'inner')), Buffer.from([(3 << 3) | 0, 0x96, 0x01])]);
    const fields = readMessage(message);
    expect(stringField(fields, 1)).toBe('default');
    expect(stringsField(fields, 4)).toEqual(['a', 'b']);
    expect(stringField(messageField(fields, 2) ?? new Map(), 1)).toBe('inner');
    expect(fields.get(3)).toEqual([150]);
  });

  it('unwraps the k8s envelope', () => {
    const unknown = Buffer.concat([bytes(1, Buffer.concat([bytes(1, 'authorization.k8s.io/v1'), bytes(2, 'SelfSubjectAccessReview')])), bytes(2, 'raw')]);
    expect(readEnvelope(Buffer.concat([Buffer.from('k8s\0', 'latin1'), unknown]))).toEqual({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      raw: Buffer.from('raw'),
    });
  });

  it('refuses truncated and malformed input with a BadRequest', () => {
    const malformed = [
      Buffer.from([(1 << 3) | 2, 10, 1, 2]), // length past the end
      Buffer.from([0x80, 0x80]), // unterminated varint
      Buffer.from([(1 << 3) | 3]), // group wire type
      Buffer.from([(1 << 3) | 1, 1, 2]), // short fixed64
    ];
    for (const input of malformed) expect(() => readMessage(input)).toThrow(StatusError);
    expect(() => readEnvelope(Buffer.from('json'))).toThrow(/malformed/);
  });
});
