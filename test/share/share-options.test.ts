import { describe, expect, it } from 'vitest';
import { createClusterProxy } from '../../src/create-cluster-proxy.ts';
import { InvalidOptionError } from '../../src/errors.ts';
import { resolveShareOptions, SHARE_DEFAULTS } from '../../src/share/share-options.ts';

describe('the share option', () => {
  it('is off unless set; true takes the defaults', () => {
    expect(resolveShareOptions(undefined)).toEqual({ watches: undefined });
    expect(resolveShareOptions({})).toEqual({ watches: undefined });
    expect(resolveShareOptions({ watches: false })).toEqual({ watches: undefined });
    expect(resolveShareOptions({ watches: true })).toEqual({ watches: SHARE_DEFAULTS });
    expect(resolveShareOptions({ watches: { lingerMs: 0, windowEvents: 5 } }).watches).toEqual({ ...SHARE_DEFAULTS, lingerMs: 0, windowEvents: 5 });
  });

  it('refuses what it cannot use, naming the option', () => {
    const cases: [unknown, RegExp][] = [
      [5, /^share must be an object/],
      [{ watch: true }, /share: unknown option "watch"/],
      [{ watches: 'yes' }, /^share.watches must be true, false or an object/],
      [{ watches: { lingerms: 5 } }, /share.watches: unknown option "lingerms"; did you mean "lingerMs"/],
      [{ watches: { lingerMs: -1 } }, /^share.watches.lingerMs must be a whole number of milliseconds from 0/],
      [{ watches: { windowEvents: 0 } }, /^share.watches.windowEvents must be a whole number of events from 1/],
      [{ watches: { windowBytes: 1.5 } }, /^share.watches.windowBytes must be/],
      [{ watches: { maxQueuedBytes: Number.POSITIVE_INFINITY } }, /^share.watches.maxQueuedBytes must be/],
    ];
    for (const [share, message] of cases) {
      expect(() => resolveShareOptions(share as never)).toThrow(InvalidOptionError);
      expect(() => resolveShareOptions(share as never)).toThrow(message);
    }
  });

  it('is validated at construction', () => {
    expect(() => createClusterProxy({ clusters: [], share: { watches: { lingerMs: -1 } } })).toThrow(/share.watches.lingerMs/);
  });
});
