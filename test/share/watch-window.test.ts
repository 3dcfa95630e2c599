import { describe, expect, it } from 'vitest';
import type { SubscriberStart } from '../../src/share/watch-key.ts';
import { decideStart, EventWindow, streamLifetimeMs, wantsInitialEvents } from '../../src/share/watch-window.ts';

const event = (resourceVersion: number, size = 10) => ({ resourceVersion, line: 'x'.repeat(size) });
const start = (given: Partial<SubscriberStart>): SubscriberStart => ({ resourceVersion: '', sendInitialEvents: undefined, bookmarks: false, timeoutSeconds: undefined, ...given });

describe('the event window', () => {
  it('keeps the events after its floor, in order, and raises the floor as it drops the oldest', () => {
    const window = new EventWindow(10, { maxEvents: 3, maxBytes: 1_000_000 });
    expect(window.since(10)).toEqual([]);
    expect(window.since(9)).toBeUndefined();
    for (const rv of [11, 13, 14, 20]) window.push(event(rv));
    expect(window.floor).toBe(11);
    expect(window.seen).toBe(20);
    expect(window.since(11)?.map((e) => e.resourceVersion)).toEqual([13, 14, 20]);
    expect(window.since(13)?.map((e) => e.resourceVersion)).toEqual([14, 20]);
    // Between two events: those after it.
    expect(window.since(15)?.map((e) => e.resourceVersion)).toEqual([20]);
    expect(window.since(20)).toEqual([]);
    expect(window.since(10)).toBeUndefined();
  });

  it('is bounded in bytes too, and ignores an event not newer than the last', () => {
    const window = new EventWindow(0, { maxEvents: 1000, maxBytes: 25 });
    expect(window.push(event(1))).toBe(true);
    expect(window.push(event(2))).toBe(true);
    expect(window.push(event(2))).toBe(false);
    expect(window.push(event(1))).toBe(false);
    expect(window.push(event(3))).toBe(true);
    expect(window.length).toBe(2);
    expect(window.floor).toBe(1);
  });

  it('stays correct over many events (the array is compacted now and then)', () => {
    const window = new EventWindow(0, { maxEvents: 100, maxBytes: 1_000_000 });
    for (let rv = 1; rv <= 5000; rv++) window.push(event(rv));
    expect(window.length).toBe(100);
    expect(window.floor).toBe(4900);
    expect(window.since(4990)?.map((e) => e.resourceVersion)).toEqual(Array.from({ length: 10 }, (_, i) => 4991 + i));
  });

  it('advances on a bookmark without keeping anything', () => {
    const window = new EventWindow(5, { maxEvents: 10, maxBytes: 1000 });
    window.advance(9);
    window.advance(7);
    expect(window.seen).toBe(9);
    expect(window.since(5)).toEqual([]);
  });
});

describe('where a subscriber starts', () => {
  const view = { floor: 10, seen: 20, stateAt: 20, reached: 0 };

  it('without a resourceVersion or with "0": the current objects; a list first if they are not known', () => {
    expect(decideStart(start({}), view)).toEqual({ kind: 'initial' });
    expect(decideStart(start({ resourceVersion: '0' }), view)).toEqual({ kind: 'initial' });
    expect(decideStart(start({}), { ...view, stateAt: undefined })).toEqual({ kind: 'list' });
  });

  it('read-your-writes: waits for the identity’s last write before giving the current objects', () => {
    expect(decideStart(start({}), view, 25)).toEqual({ kind: 'wait', until: 25 });
    expect(decideStart(start({}), view, 20)).toEqual({ kind: 'initial' });
    // "0" means any state.
    expect(decideStart(start({ resourceVersion: '0' }), view, 25)).toEqual({ kind: 'initial' });
  });

  it('from a resourceVersion: the events after it, 410 below the window, a wait above what was seen', () => {
    expect(decideStart(start({ resourceVersion: '15' }), view)).toEqual({ kind: 'from', resourceVersion: 15 });
    expect(decideStart(start({ resourceVersion: '10' }), view)).toEqual({ kind: 'from', resourceVersion: 10 });
    expect(decideStart(start({ resourceVersion: '20' }), view)).toEqual({ kind: 'from', resourceVersion: 20 });
    expect(decideStart(start({ resourceVersion: '9' }), view)).toEqual({ kind: 'expired' });
    expect(decideStart(start({ resourceVersion: '21' }), view)).toEqual({ kind: 'wait', until: 21, probe: true });
  });

  it('a resourceVersion the cluster is known to have reached starts at once: the events after it are on their way', () => {
    expect(decideStart(start({ resourceVersion: '25' }), { ...view, reached: 30 })).toEqual({ kind: 'from', resourceVersion: 25 });
    expect(decideStart(start({ resourceVersion: '31' }), { ...view, reached: 30 })).toEqual({ kind: 'wait', until: 31, probe: true });
    // The current objects are another matter: they must include what was written.
    expect(decideStart(start({}), { ...view, reached: 30 }, 25)).toEqual({ kind: 'wait', until: 25 });
  });

  it('sendInitialEvents: the objects at a state not older than the resourceVersion; false: only what follows', () => {
    expect(decideStart(start({ resourceVersion: '15', sendInitialEvents: true }), view)).toEqual({ kind: 'initial' });
    expect(decideStart(start({ resourceVersion: '30', sendInitialEvents: true }), view)).toEqual({ kind: 'wait', until: 30 });
    expect(decideStart(start({ resourceVersion: '5', sendInitialEvents: true }), view)).toEqual({ kind: 'initial' });
    expect(decideStart(start({ sendInitialEvents: false }), view)).toEqual({ kind: 'from', resourceVersion: 20 });
    expect(decideStart(start({ resourceVersion: '15', sendInitialEvents: false }), view)).toEqual({ kind: 'from', resourceVersion: 15 });
    expect(wantsInitialEvents(start({ resourceVersion: '0', sendInitialEvents: false }))).toBe(false);
  });
});

describe('how long a subscriber’s stream lasts', () => {
  it('its timeoutSeconds, else 30 to 60 minutes at random', () => {
    expect(streamLifetimeMs(start({ timeoutSeconds: 5 }), 0.5)).toBe(5000);
    expect(streamLifetimeMs(start({}), 0)).toBe(30 * 60_000);
    expect(streamLifetimeMs(start({}), 0.5)).toBe(45 * 60_000);
    expect(streamLifetimeMs(start({}), 0.999999)).toBeLessThan(60 * 60_000);
  });
});
