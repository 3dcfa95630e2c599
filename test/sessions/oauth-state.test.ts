import { describe, expect, it } from 'vitest';
import { SessionError } from '../../src/errors.ts';
import { createStateSealer } from '../../src/sessions/oauth-state.ts';

const SECRET = 'a-secret-of-at-least-32-characters!!';
const state = { verifier: 'v'.repeat(43), nonce: 'n', returnTo: '/x', provider: 'default' };

describe('createStateSealer', () => {
  it('round-trips a state, sealed so that it cannot be read', async () => {
    const sealer = createStateSealer(SECRET, 600);
    const sealed = await sealer.seal(state);
    expect(sealed.sealed.split('.')).toHaveLength(5);
    expect(Buffer.from(sealed.sealed.split('.')[3]!, 'base64url').toString()).not.toContain(state.verifier);
    expect(await sealer.open(sealed.sealed)).toEqual({ ...state, jti: sealed.jti });
  });

  it('refuses an expired state', async () => {
    let now = Date.now();
    const sealer = createStateSealer(SECRET, 600, () => now);
    const { sealed } = await sealer.seal(state);
    now += 601_000;
    await expect(sealer.open(sealed)).rejects.toThrow(/the login took too long and its state expired/);
  });

  it.each([
    ['sealed with another secret', async () => (await createStateSealer('another-secret-of-32-characters!!!!', 600).seal(state)).sealed],
    ['tampered', async () => {
      const { sealed } = await createStateSealer(SECRET, 600).seal(state);
      const parts = sealed.split('.');
      parts[3] = `${parts[3]!.slice(0, -2)}AA`;
      return parts.join('.');
    }],
    ['garbage', () => Promise.resolve('not-a-state')],
    ['empty', () => Promise.resolve('')],
  ])('refuses a state %s', async (_what, make) => {
    await expect(createStateSealer(SECRET, 600).open(await make())).rejects.toBeInstanceOf(SessionError);
  });
});
