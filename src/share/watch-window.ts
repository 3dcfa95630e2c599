import type { SubscriberStart } from './watch-key.ts';

/** One change the shared watch relayed: its resourceVersion and the line to send, as the cluster sent it. */
export interface WindowEvent {
  readonly resourceVersion: number;
  readonly line: string;
}

/** How many recent events a shared watch keeps for subscribers that start from a resourceVersion. */
export interface WindowLimits {
  readonly maxEvents: number;
  readonly maxBytes: number;
}

/**
 * The recent events of one shared watch, bounded in count and bytes. Every event with a
 * resourceVersion above `floor` and up to `seen` is kept, in order; what falls out of the bound
 * raises the floor, as compaction does on the API server.
 */
export class EventWindow {
  #events: WindowEvent[] = [];
  #first = 0;
  #bytes = 0;
  #floor: number;
  #seen: number;
  readonly #limits: WindowLimits;

  /** @param from the resourceVersion the upstream watch starts from: nothing before it is known. */
  constructor(from: number, limits: WindowLimits) {
    this.#floor = from;
    this.#seen = from;
    this.#limits = limits;
  }

  /** Every event after this resourceVersion is kept. */
  get floor(): number {
    return this.#floor;
  }

  /** The last resourceVersion the upstream watch reported (an event or a bookmark). */
  get seen(): number {
    return this.#seen;
  }

  get length(): number {
    return this.#events.length - this.#first;
  }

  /** Keeps an event; one not newer than the last is ignored (the cluster never sends one). */
  push(event: WindowEvent): boolean {
    if (event.resourceVersion <= this.#seen) return false;
    this.#events.push(event);
    this.#bytes += event.line.length;
    this.#seen = event.resourceVersion;
    while (this.length > this.#limits.maxEvents || (this.#bytes > this.#limits.maxBytes && this.length > 0)) {
      const dropped = this.#events[this.#first++]!;
      this.#bytes -= dropped.line.length;
      this.#floor = dropped.resourceVersion;
    }
    // Compacts the array now and then rather than shifting on every event.
    if (this.#first > 1024 && this.#first * 2 > this.#events.length) {
      this.#events = this.#events.slice(this.#first);
      this.#first = 0;
    }
    return true;
  }

  /** A bookmark: nothing happened up to `resourceVersion`. */
  advance(resourceVersion: number): void {
    if (resourceVersion > this.#seen) this.#seen = resourceVersion;
  }

  /** The events after `resourceVersion`, oldest first; `undefined` when some fell out of the window. */
  since(resourceVersion: number): WindowEvent[] | undefined {
    if (resourceVersion < this.#floor) return undefined;
    const out: WindowEvent[] = [];
    for (let i = this.#events.length - 1; i >= this.#first; i--) {
      const event = this.#events[i]!;
      if (event.resourceVersion <= resourceVersion) break;
      out.push(event);
    }
    return out.reverse();
  }
}

/** What a shared watch knows when a subscriber starts. */
export interface WatchView {
  readonly floor: number;
  readonly seen: number;
  /** The resourceVersion the current objects are known at; `undefined` before the shared watch listed them. */
  readonly stateAt: number | undefined;
  /**
   * A resourceVersion the cluster is known to have reached (a list said so). Writes to other
   * resources advance it beyond what this watch sees; the events up to it will still come.
   */
  readonly reached: number;
}

/**
 * How a subscriber's stream starts, decided by the API server's rules:
 * - `'initial'`: the current objects as ADDED events (then the `initial-events-end` bookmark with
 *   `sendInitialEvents=true`), then the changes after them;
 * - `'from'`: the kept changes after `resourceVersion`, then live ones;
 * - `'expired'`: the `ERROR` event with a `410 Expired` Status;
 * - `'list'`: the current objects are needed and not known yet;
 * - `'wait'`: the subscriber needs a resourceVersion the shared watch has not seen; `probe`: asking
 *   the cluster how far it got may settle it.
 */
export type StartDecision =
  | { readonly kind: 'initial' }
  | { readonly kind: 'from'; readonly resourceVersion: number }
  | { readonly kind: 'expired' }
  | { readonly kind: 'list' }
  | { readonly kind: 'wait'; readonly until: number; readonly probe?: true };

/** Whether the subscriber gets the current objects first (no resourceVersion, `"0"`, or `sendInitialEvents=true`). */
export function wantsInitialEvents(start: SubscriberStart): boolean {
  return start.sendInitialEvents ?? (start.resourceVersion === '' || start.resourceVersion === '0');
}

/**
 * Decides where a subscriber starts. `written` is the resourceVersion of the latest write its
 * identity made through the proxy to what it watches: a subscriber without a resourceVersion must
 * see it (read-your-writes). Pure.
 */
export function decideStart(start: SubscriberStart, view: WatchView, written = 0): StartDecision {
  const asked = start.resourceVersion === '' ? written : Number(start.resourceVersion);
  if (wantsInitialEvents(start)) {
    if (view.stateAt === undefined) return { kind: 'list' };
    // "0" is any state; otherwise a state not older than what was asked (NotOlderThan).
    return view.stateAt >= asked ? { kind: 'initial' } : { kind: 'wait', until: asked };
  }
  // sendInitialEvents=false without a resourceVersion: from now on.
  if (start.resourceVersion === '') return view.seen >= asked ? { kind: 'from', resourceVersion: view.seen } : { kind: 'wait', until: asked };
  if (asked < view.floor) return { kind: 'expired' };
  // Reached but not seen: the events after it are still on their way, in order, and none before it is sent.
  if (asked > view.seen && asked > view.reached) return { kind: 'wait', until: asked, probe: true };
  return { kind: 'from', resourceVersion: asked };
}

/**
 * How long a subscriber's stream may last: its `timeoutSeconds`, else 30 to 60 minutes at random,
 * as the API server spreads its watches' ends so that clients come back one by one. `random` is in [0, 1).
 */
export function streamLifetimeMs(start: SubscriberStart, random: number): number {
  if (start.timeoutSeconds !== undefined) return start.timeoutSeconds * 1000;
  return Math.floor((30 + 30 * random) * 60_000);
}
