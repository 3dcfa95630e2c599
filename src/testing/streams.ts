/** The kinds of long-lived streams a fake cluster serves. */
export type StreamKind = 'watch' | 'log' | 'exec' | 'attach' | 'portforward';

/** Open watch, follow, exec and port-forward streams, so tests can count them and `close()` can end them all. */
export class StreamTracker {
  readonly #streams = new Map<symbol, { kind: StreamKind; close: () => void }>();

  /** Registers a stream; the returned function unregisters it (idempotent). */
  open(kind: StreamKind, close: () => void): () => void {
    const id = Symbol(kind);
    this.#streams.set(id, { kind, close });
    return () => this.#streams.delete(id);
  }

  count(kind?: StreamKind): number {
    return [...this.#streams.values()].filter((stream) => kind === undefined || stream.kind === kind).length;
  }

  /** Ends every open stream of one kind (their close functions unregister them). */
  closeKind(kind: StreamKind): void {
    for (const stream of [...this.#streams.values()]) if (stream.kind === kind) stream.close();
  }

  closeAll(): void {
    for (const { close } of [...this.#streams.values()]) close();
    this.#streams.clear();
  }
}
