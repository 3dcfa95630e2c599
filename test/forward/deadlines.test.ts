import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createDeadlines } from '../../src/forward/deadlines.ts';

describe('createDeadlines', () => {
  it('expires a deadline once its time passed, and never a stopped one', async () => {
    let clock = 0;
    const deadlines = createDeadlines(() => clock);
    const expired: string[] = [];
    deadlines.start(40, () => expired.push('a'));
    const b = deadlines.start(40, () => expired.push('b'));
    deadlines.start(1_000, () => expired.push('late'));
    b.stop();
    clock = 39;
    await delay(30);
    expect(expired).toEqual([]);
    clock = 41;
    await delay(30);
    expect(expired).toEqual(['a']);
    clock = 10_000;
    await delay(30);
    expect(expired).toEqual(['a', 'late']);
    deadlines.close();
  });

  it('close() stops every deadline', async () => {
    let clock = 0;
    const deadlines = createDeadlines(() => clock);
    const expired: number[] = [];
    deadlines.start(20, () => expired.push(1));
    deadlines.close();
    clock = 100;
    await delay(40);
    expect(expired).toEqual([]);
  });
});
