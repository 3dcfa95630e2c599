import type { ServerResponse } from 'node:http';
import { clientResponseHeaders } from '../forward/headers.ts';
import type { ForwardObserver } from '../forward/observer.ts';
import type { Exchange } from '../pipeline/exchange.ts';
import type { SharedWatch, WatchEnd, WatchListener } from './shared-watch.ts';
import { bookmarkLine, eventLine, expiredLine } from './watch-event.ts';
import type { SubscriberStart } from './watch-key.ts';
import { decideStart, streamLifetimeMs, type WindowEvent } from './watch-window.ts';

/** How long a subscriber asking for a resourceVersion the shared watch has not seen waits for it, as the API server does. */
export const NEWER_WAIT_MS = 3000;

/** The lines of `items`, made one at a time as the client reads them. */
function* lazily<T>(items: readonly T[], line: (item: T) => string): Iterator<string> {
  for (const item of items) yield line(item);
}

/** How long a cut-off subscriber gets to read what was already queued before its connection is closed. */
const CUT_GRACE_MS = 10_000;

export interface SubscriberOptions {
  readonly res: ServerResponse;
  readonly exchange: Exchange;
  readonly start: SubscriberStart;
  readonly watch: SharedWatch;
  /** The resourceVersion of the identity's latest write to what it watches, through this proxy (read-your-writes). */
  readonly written: number;
  readonly observer: ForwardObserver;
  /** Serves the request with an upstream watch of its own. */
  readonly passThrough: () => void;
  /** Bytes queued for the client beyond which it is cut off. */
  readonly maxQueuedBytes: number;
  /** Milliseconds to wait for a resourceVersion the shared watch has not seen yet. */
  readonly waitMs: number;
  /** Called once the subscriber no longer needs the shared watch (served, passed through, or gone). */
  readonly done: () => void;
  readonly random: () => number;
}

/**
 * One client's stream from a shared watch: where it starts (the API server's rules), then every
 * later event once and in order, until its `timeoutSeconds` or lifetime is over, the client
 * leaves, the proxy ends it, or it falls so far behind that it is cut off (it re-watches from its
 * last resourceVersion rather than slow the others or hold memory without bound).
 */
export function serveSubscriber(options: SubscriberOptions): void {
  const { res, exchange, start, watch, observer } = options;
  let phase: 'deciding' | 'streaming' | 'over' = 'deciding';
  let position = 0;
  let contentType = 'application/json';
  let waitTimer: NodeJS.Timeout | undefined;
  let lifetime: NodeJS.Timeout | undefined;
  let listing = false;
  let unlisten: () => void = () => undefined;
  // A function, not a comparison: writes can end the stream (a slow client cut off) in the middle of a loop.
  const streaming = () => phase === 'streaming';

  function release(): void {
    if (phase === 'over') return;
    phase = 'over';
    unlisten();
    clearTimeout(waitTimer);
    clearTimeout(lifetime);
    options.done();
  }

  function passThrough(): void {
    if (phase !== 'deciding') return;
    release();
    if (!res.destroyed) options.passThrough();
  }

  /** Ends the stream cleanly (the chunked terminator): the client re-watches from its last resourceVersion. */
  function finish(): void {
    const streaming = phase === 'streaming';
    release();
    if (streaming && !res.writableEnded) res.end();
  }

  /** Live lines held while a replay is written; their bytes count against the bound. */
  let held: string[] | undefined;
  let heldBytes = 0;

  function cut(): void {
    // Too slow to keep up: cut off, with what is queued still delivered if it reads it soon.
    finish();
    setTimeout(() => res.destroy(), CUT_GRACE_MS).unref();
  }

  /** Writes a line, unless what is queued already exceeds the bound: memory stays under it plus one event. */
  function write(line: string): void {
    if (held) {
      held.push(line);
      heldBytes += line.length;
      if (heldBytes > options.maxQueuedBytes) cut();
      return;
    }
    if (res.writableLength > options.maxQueuedBytes) return cut();
    res.write(line);
  }

  /**
   * Writes the start of the stream (the current objects, or the kept events) as fast as the client
   * reads, however large; live events meanwhile wait behind it, within the bound.
   */
  function replay(lines: Iterator<string>, last?: string): void {
    held = [];
    heldBytes = 0;
    const pump = () => {
      for (;;) {
        if (!streaming()) return;
        const next = lines.next();
        if (next.done) break;
        if (!res.write(next.value)) return void res.once('drain', pump);
      }
      const waiting = held ?? [];
      held = undefined;
      if (last !== undefined) write(last);
      for (const line of waiting) write(line);
    };
    pump();
  }

  function begin(): void {
    phase = 'streaming';
    clearTimeout(waitTimer);
    observer.response(exchange, 200);
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-cache, private' });
    res.flushHeaders();
    observer.streamStarted(exchange, res, finish);
    lifetime = setTimeout(finish, streamLifetimeMs(start, options.random())).unref();
  }

  function decide(): void {
    if (phase !== 'deciding') return;
    const decision = decideStart(start, watch.view(), options.written);
    switch (decision.kind) {
      case 'list':
        if (listing) return;
        listing = true;
        void watch.ensureState().then((ok) =>
          safely(() => {
            listing = false;
            if (ok) decide();
            else passThrough();
          }),
        );
        return;
      case 'wait':
        // Not seen within the wait: the cluster itself answers (it may not have it either).
        if (waitTimer === undefined) {
          waitTimer = setTimeout(passThrough, options.waitMs).unref();
          if (decision.probe) watch.probe();
        }
        return;
      case 'expired':
        begin();
        write(expiredLine(start.resourceVersion, watch.view().seen));
        finish();
        return;
      case 'initial': {
        begin();
        const initial = watch.initialEvents();
        position = initial.resourceVersion;
        const end = start.sendInitialEvents === true ? bookmarkLine(watch.bookmarkType, position, true) : undefined;
        replay(lazily(initial.objects, (object) => eventLine('ADDED', object)), end);
        return;
      }
      case 'from': {
        begin();
        const kept = watch.since(decision.resourceVersion) ?? [];
        position = kept.at(-1)?.resourceVersion ?? decision.resourceVersion;
        replay(lazily(kept, (event) => event.line));
      }
    }
  }

  const listener: WatchListener = guarded({
    change(event: WindowEvent) {
      // Before the start, the window holds what the decision will send.
      if (phase !== 'streaming' || event.resourceVersion <= position) return;
      position = event.resourceVersion;
      write(event.line);
    },
    bookmark(resourceVersion, line) {
      if (phase !== 'streaming' || resourceVersion < position) return;
      position = resourceVersion;
      if (start.bookmarks) write(line);
    },
    progress: decide,
    end(why: WatchEnd) {
      if (phase === 'deciding') return passThrough();
      if (why.kind === 'error' && phase === 'streaming') res.write(why.line);
      finish();
    },
  });

  /**
   * What runs on the shared watch's behalf must never throw into it (nor crash the process): a
   * failure ends this subscriber's connection only.
   */
  function safely(action: () => void): void {
    try {
      action();
    } catch {
      release();
      res.destroy();
    }
  }

  function guarded(methods: WatchListener): WatchListener {
    return {
      change: (event) => safely(() => methods.change(event)),
      bookmark: (resourceVersion, line) => safely(() => methods.bookmark(resourceVersion, line)),
      progress: () => safely(() => methods.progress()),
      end: (why) => safely(() => methods.end(why)),
    };
  }

  // A write racing the client's reset must not become an unhandled 'error'.
  res.on('error', () => undefined);
  res.once('close', release);
  void watch.started.then((outcome) => {
    try {
      if (phase !== 'deciding') return;
      if (!outcome.ok) {
        if (!outcome.refused) return passThrough();
        // The cluster refused the identity: the same answer it gives any request with it.
        release();
        observer.response(exchange, outcome.refused.status);
        const { 'content-length': _length, 'transfer-encoding': _chunked, ...headers } = clientResponseHeaders(outcome.refused.headers);
        res.writeHead(outcome.refused.status, { ...headers, 'content-length': outcome.refused.body.length } as never);
        res.end(outcome.refused.body);
        return;
      }
      contentType = outcome.contentType;
      unlisten = watch.listen(listener);
      decide();
    } catch {
      release();
      res.destroy();
    }
  });
}
