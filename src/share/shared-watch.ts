import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { RequestUpstream } from '../forward/upstream-request.ts';
import { goneLine, readBody } from './upstream-answer.ts';
import { parseList, parseWatchLine, type ParsedList } from './watch-event.ts';
import { EventWindow, type WatchView, type WindowEvent, type WindowLimits } from './watch-window.ts';

/** Why a shared watch stopped: its subscribers end their streams, and those still waiting go upstream on their own. */
export type WatchEnd =
  /** The cluster sent an `ERROR` event (a `410` to a resume among them): every subscriber gets it. */
  | { readonly kind: 'error'; readonly line: string }
  /** The upstream could not be resumed, or the proxy closed: streams end cleanly and clients re-watch. */
  | { readonly kind: 'ended' }
  /** What the cluster streams cannot be shared (e.g. resourceVersions that are not decimal). */
  | { readonly kind: 'unshareable'; readonly why: string };

/** One subscriber of a shared watch, as the shared watch sees it. */
export interface WatchListener {
  /** A change, in order, each once. */
  change(event: WindowEvent): void;
  /** A bookmark from the cluster at `resourceVersion`, and its line. */
  bookmark(resourceVersion: number, line: string): void;
  /** What the shared watch knows advanced (a waiting subscriber may start now). */
  progress(): void;
  end(why: WatchEnd): void;
}

/** How the shared watch started: with the cluster's `Content-Type`, or refused (`401` relayed), or not at all. */
export type StartOutcome =
  | { readonly ok: true; readonly contentType: string }
  | { readonly ok: false; readonly refused?: { readonly status: number; readonly headers: IncomingHttpHeaders; readonly body: Buffer } };

export interface SharedWatchOptions {
  readonly request: RequestUpstream;
  readonly listPath: string;
  readonly probePath: string;
  readonly watchPath: (resourceVersion: string) => string;
  /** The headers for the cluster, the identity's included (the first subscriber's; see {@link SharedWatch.headers}). */
  readonly headers: IncomingHttpHeaders;
  /** Milliseconds to wait for the cluster's response headers. */
  readonly timeoutMs: number;
  readonly limits: WindowLimits;
  /** The first subscriber's resourceVersion, to watch from without a list; `undefined`: list first. */
  readonly from: number | undefined;
  /** Called once when the shared watch ends, for whatever reason. */
  readonly onEnd: (why: WatchEnd) => void;
}

/** Bounds on what is read from the cluster: a list body, and one line of a watch. */
const MAX_LIST_BYTES = 256 * 1024 * 1024;
const MAX_LINE_BYTES = 16 * 1024 * 1024;
const MAX_REFUSAL_BYTES = 64 * 1024;
/** Delays between attempts to resume a dropped upstream watch; after the last, subscribers re-watch. */
const RESUME_DELAYS_MS = [0, 250, 1000, 3000];

type Refusal = NonNullable<Extract<StartOutcome, { ok: false }>['refused']>;
type ListResult = ParsedList | 'failed' | { refused: Refusal };

/**
 * One upstream watch run like an informer: list (unless the first subscriber gave a
 * resourceVersion), watch from there, resume from the last resourceVersion seen when the
 * connection drops. It keeps the current objects (once listed) and a bounded window of recent
 * events, and relays every event to its listeners, in order, each once.
 */
export class SharedWatch {
  readonly started: Promise<StartOutcome>;
  /** The headers the next upstream request goes with: the latest subscriber's, whose credentials are the freshest. */
  headers: IncomingHttpHeaders;
  readonly #options: SharedWatchOptions;
  readonly #listeners = new Set<WatchListener>();
  readonly #abort = new AbortController();
  #window: EventWindow | undefined;
  #state: Map<string, unknown> | undefined;
  #stateAt = 0;
  #bookmarkType: ParsedList['bookmarkType'] = { kind: '', apiVersion: '' };
  #listing: Promise<boolean> | undefined;
  #probing = false;
  #reached = 0;
  #ended: WatchEnd | undefined;

  constructor(options: SharedWatchOptions) {
    this.#options = options;
    this.headers = options.headers;
    this.started = this.#start().then((outcome) => {
      if (!outcome.ok) this.#finish({ kind: 'ended' });
      return outcome;
    });
  }

  get listeners(): number {
    return this.#listeners.size;
  }

  get ended(): boolean {
    return this.#ended !== undefined;
  }

  view(): WatchView {
    const window = this.#window;
    return { floor: window?.floor ?? 0, seen: window?.seen ?? 0, stateAt: this.#state ? this.#stateAt : undefined, reached: this.#reached };
  }

  /** The current objects (a snapshot), and the resourceVersion they are at; only once listed. */
  initialEvents(): { objects: unknown[]; resourceVersion: number } {
    return { objects: [...(this.#state?.values() ?? [])], resourceVersion: this.#stateAt };
  }

  get bookmarkType(): ParsedList['bookmarkType'] {
    return this.#bookmarkType;
  }

  /** The kept events after `resourceVersion`; `undefined` when some fell out of the window. */
  since(resourceVersion: number): WindowEvent[] | undefined {
    return this.#window?.since(resourceVersion);
  }

  /** Adds a listener; the returned function removes it. */
  listen(listener: WatchListener): () => void {
    if (this.#ended) {
      listener.end(this.#ended);
      return () => undefined;
    }
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Lists the current objects if not known yet (one list for every subscriber asking); `false` if that failed. */
  ensureState(): Promise<boolean> {
    if (this.#state) return Promise.resolve(true);
    this.#listing ??= this.#listIntoState().finally(() => (this.#listing = undefined));
    return this.#listing;
  }

  /**
   * Asks the cluster how far it got (a list of one item), for subscribers whose resourceVersion
   * this watch has not seen: writes to other resources advance it. One question at a time.
   */
  probe(): void {
    if (this.#probing || this.#ended) return;
    this.#probing = true;
    void (async () => {
      try {
        const response = await this.#request(this.#options.probePath);
        const body = response.statusCode === 200 ? await readBody(response, MAX_REFUSAL_BYTES) : (response.destroy(), undefined);
        const list = body && parseList(body.toString('utf8'));
        if (list && typeof list === 'object' && list.resourceVersion > this.#reached) this.#reached = list.resourceVersion;
      } catch {
        // Unknown: the waiting subscribers get their own watches when their wait is over.
      } finally {
        this.#probing = false;
      }
      this.#notifyProgress();
    })();
  }

  /** Stops the upstream watch; listeners still there end cleanly. */
  close(): void {
    this.#finish({ kind: 'ended' });
  }

  #request(path: string): Promise<IncomingMessage> {
    // Identity-encoded: the proxy reads the stream line by line.
    const { 'accept-encoding': _encoding, ...headers } = this.headers;
    return this.#options.request({ method: 'GET', path, headers, timeoutMs: this.#options.timeoutMs, signal: this.#abort.signal });
  }

  async #list(): Promise<ListResult> {
    const response = await this.#request(this.#options.listPath);
    if (response.statusCode !== 200) {
      const body = response.statusCode === 401 ? await readBody(response, MAX_REFUSAL_BYTES) : (response.destroy(), undefined);
      return body ? { refused: { status: 401, headers: response.headers, body } } : 'failed';
    }
    const body = await readBody(response, MAX_LIST_BYTES);
    if (!body) return 'failed';
    const list = parseList(body.toString('utf8'));
    if (typeof list === 'string') {
      this.#finish({ kind: 'unshareable', why: list });
      return 'failed';
    }
    this.#bookmarkType = list.bookmarkType;
    if (list.resourceVersion > this.#reached) this.#reached = list.resourceVersion;
    return list;
  }

  async #start(): Promise<StartOutcome> {
    try {
      let from = this.#options.from;
      if (from === undefined) {
        const list = await this.#list();
        if (list === 'failed') return { ok: false };
        if ('refused' in list) return { ok: false, refused: list.refused };
        this.#state = new Map(list.objects);
        this.#stateAt = from = list.resourceVersion;
      }
      this.#window = new EventWindow(from, this.#options.limits);
      const response = await this.#request(this.#options.watchPath(String(from)));
      if (response.statusCode !== 200) {
        const body = response.statusCode === 401 ? await readBody(response, MAX_REFUSAL_BYTES) : (response.destroy(), undefined);
        this.#finish({ kind: 'ended' });
        return body ? { ok: false, refused: { status: 401, headers: response.headers, body } } : { ok: false };
      }
      this.#read(response);
      return { ok: true, contentType: String(response.headers['content-type'] ?? 'application/json') };
    } catch {
      this.#finish({ kind: 'ended' });
      return { ok: false };
    }
  }

  async #listIntoState(): Promise<boolean> {
    // A list older than the window cannot be brought up to date: list again, a few times at most.
    for (let attempt = 0; attempt < 3 && !this.#ended; attempt++) {
      let list: ListResult;
      try {
        list = await this.#list();
      } catch {
        return false;
      }
      if (list === 'failed' || 'refused' in list || this.#ended) return false;
      if (this.#state) return true;
      const window = this.#window!;
      const objects = new Map(list.objects);
      if (list.resourceVersion > window.seen) {
        // Newer than the watch got to: the events up to it will be skipped as they arrive.
        this.#state = objects;
        this.#stateAt = list.resourceVersion;
        this.#notifyProgress();
        return true;
      }
      const later = window.since(list.resourceVersion);
      if (!later) continue;
      this.#state = objects;
      this.#stateAt = list.resourceVersion;
      for (const event of later) this.#apply(parseWatchLine(event.line), event.resourceVersion);
      this.#stateAt = window.seen;
      this.#notifyProgress();
      return true;
    }
    return false;
  }

  #apply(event: ReturnType<typeof parseWatchLine>, resourceVersion: number): void {
    if (!this.#state || resourceVersion <= this.#stateAt) return;
    if (event.kind === 'change') {
      if (event.type === 'DELETED') this.#state.delete(event.objectKey);
      else this.#state.set(event.objectKey, event.object);
    }
    this.#stateAt = resourceVersion;
  }

  #read(response: IncomingMessage): void {
    let buffered = '';
    response.setEncoding('utf8');
    response.on('data', (text: string) => {
      buffered += text;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) !== -1 && !this.#ended) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.trim() !== '') this.#line(line);
      }
      if (buffered.length > MAX_LINE_BYTES) this.#finish({ kind: 'unshareable', why: 'a watch event longer than the proxy reads' });
    });
    response.once('close', () => {
      if (!this.#ended) void this.#resume();
    });
    response.on('error', () => undefined);
  }

  #line(line: string): void {
    const event = parseWatchLine(line);
    const window = this.#window!;
    switch (event.kind) {
      case 'unreadable':
        this.#finish({ kind: 'unshareable', why: event.why });
        return;
      case 'error':
        this.#finish({ kind: 'error', line: `${line}\n` });
        return;
      case 'bookmark':
        // One at the last event's resourceVersion is still news to clients asking for bookmarks.
        if (event.resourceVersion < window.seen) return;
        window.advance(event.resourceVersion);
        this.#apply(event, event.resourceVersion);
        for (const listener of [...this.#listeners]) listener.bookmark(event.resourceVersion, `${line}\n`);
        this.#notifyProgress();
        return;
      case 'change': {
        const kept: WindowEvent = { resourceVersion: event.resourceVersion, line: `${line}\n` };
        // A resumed watch never repeats an event; should a cluster do so, subscribers still get it once.
        if (!window.push(kept)) return;
        this.#apply(event, event.resourceVersion);
        for (const listener of [...this.#listeners]) listener.change(kept);
        this.#notifyProgress();
      }
    }
  }

  async #resume(): Promise<void> {
    for (const delay of RESUME_DELAYS_MS) {
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay).unref());
      if (this.#ended) return;
      let response: IncomingMessage;
      try {
        response = await this.#request(this.#options.watchPath(String(this.#window!.seen)));
      } catch {
        continue;
      }
      if (this.#ended) {
        response.destroy();
        return;
      }
      if (response.statusCode === 200) {
        this.#read(response);
        return;
      }
      const body = await readBody(response, MAX_REFUSAL_BYTES);
      if (response.statusCode === 410) {
        this.#finish({ kind: 'error', line: goneLine(body) });
        return;
      }
      // Anything else (a 401 for an expired credential, a 5xx): subscribers re-watch and are prepared anew.
      break;
    }
    this.#finish({ kind: 'ended' });
  }

  #notifyProgress(): void {
    for (const listener of [...this.#listeners]) listener.progress();
  }

  #finish(why: WatchEnd): void {
    if (this.#ended) return;
    this.#ended = why;
    this.#abort.abort();
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const listener of listeners) listener.end(why);
    this.#options.onEnd(why);
  }
}
