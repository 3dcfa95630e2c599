import { describe, expect, it } from 'vitest';
import { createValueCipher, UnreadableValueError } from '../../src/redis/value-cipher.ts';

const KEY = 'a-secret-of-at-least-32-characters!!';
const OTHER = 'another-secret-of-32-characters!!!!!';
// Sealed by the cipher before the key derivation moved to its own module: values in a store
// written by an earlier version must still open.
const SEALED_EARLIER =
  'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiblRkbFN4eEVvZkkifQ..AbX7sYTonlm4VSHH.pimENYUBCWxVQStvPdYDgRkFKDdHOiRaUwnRHCpNGwU7QZg.FjX3ssOxpBiBAAyn5hDthQ';

async function unreadable(promise: Promise<unknown>): Promise<UnreadableValueError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof UnreadableValueError)) throw new Error(`expected an UnreadableValueError, got ${String(error)}`);
  return error;
}

describe('createValueCipher', () => {
  it('seals a value that only opens under its own storage key, and does not show it', async () => {
    const cipher = createValueCipher([KEY]);
    const sealed = await cipher.seal('session:a', 'the value');
    expect(sealed).not.toContain('the value');
    expect(Buffer.from(sealed.split('.')[3]!, 'base64url').toString('latin1')).not.toContain('the value');
    expect(await cipher.open('session:a', sealed)).toBe('the value');
    const moved = await unreadable(cipher.open('session:b', sealed));
    expect(moved.message).toMatch(/written under another key/);
  });

  it('opens values sealed by earlier versions', async () => {
    expect(await createValueCipher([KEY]).open('session:abc', SEALED_EARLIER)).toBe('the value');
  });

  it('seals with the first secret and opens with any of them, so that a key can be rotated', async () => {
    const before = await createValueCipher([OTHER]).seal('k', 'v');
    const rotated = createValueCipher([KEY, OTHER]);
    expect(await rotated.open('k', before)).toBe('v');
    expect(await createValueCipher([KEY]).open('k', await rotated.seal('k', 'w'))).toBe('w');
    const retired = await unreadable(createValueCipher([KEY]).open('k', before));
    expect(retired.message).toMatch(/encrypted with a key that is not among encryptionKey/);
  });

  it.each<[string, (sealed: string) => string]>([
    ['a flipped ciphertext byte', (s) => s.split('.').map((part, i) => (i === 3 ? `${part[0] === 'A' ? 'B' : 'A'}${part.slice(1)}` : part)).join('.')],
    ['a cut tag', (s) => s.slice(0, -4)],
    ['an altered header', (s) => `${Buffer.from('{"alg":"dir","enc":"A128GCM","kid":"x"}').toString('base64url')}${s.slice(s.indexOf('.'))}`],
    ['a plain string', () => 'not sealed at all'],
    ['an empty string', () => ''],
    ['a signed JWT', () => 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'],
  ])('refuses %s, as unreadable, with a stable code and no content in the message', async (_what, damage) => {
    const cipher = createValueCipher([KEY]);
    const error = await unreadable(cipher.open('k', damage(await cipher.seal('k', 'secret-token-value'))));
    expect(error.code).toBe('ERR_UNREADABLE_VALUE');
    expect(error.message).toMatch(/^a value in the token store was ignored \(treated as absent\): /);
    expect(error.message).not.toContain('secret-token-value');
    expect(error.message).not.toContain(KEY);
  });

  it('needs a secret', () => {
    expect(() => createValueCipher([])).toThrow(RangeError);
  });
});
