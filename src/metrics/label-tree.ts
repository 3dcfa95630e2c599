/**
 * One value per label set, found by walking a map per label: no key string is built and hashed on
 * every request (a concatenated key costs a microsecond under load; this, a tenth of it). The
 * label functions bound the sets, so the tree stays small.
 */
export function createLabelTree<T>(make: (values: readonly string[]) => T) {
  const root = new Map<string, unknown>();
  const leaves: T[] = [];
  return {
    /** The value of these label values (in the order of the metric's label names), made the first time. */
    get(values: readonly string[]): T {
      let node = root;
      const last = values.length - 1;
      for (let i = 0; i < last; i++) {
        let next = node.get(values[i]!) as Map<string, unknown> | undefined;
        if (!next) node.set(values[i]!, (next = new Map()));
        node = next;
      }
      let leaf = node.get(values[last]!) as T | undefined;
      if (leaf === undefined) {
        leaf = make(values);
        node.set(values[last]!, leaf);
        leaves.push(leaf);
      }
      return leaf;
    },
    /** Every value made so far. */
    leaves: (): readonly T[] => leaves,
  };
}
