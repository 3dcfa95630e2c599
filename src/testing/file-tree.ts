/** Kinds of entries in a {@link FakeFileSystem}. */
export type FakeFileType = 'file' | 'directory' | 'symlink';

/** What {@link FakeFileSystem.stat} tells about an entry. */
export interface FakeFileStat {
  readonly type: FakeFileType;
  /** Content length in bytes (0 for directories; the target's length for symlinks). */
  readonly size: number;
  /** Permission bits, e.g. `0o644`. */
  readonly mode: number;
  readonly mtime: Date;
  /** The target of a symlink. */
  readonly linkTarget?: string;
}

/**
 * A pod's in-memory file system: what `kubectl cp` (through `tar`), `cat`, `ls` and `test` see
 * inside the fake's pods. Paths are POSIX; relative paths start at `/`. Symlinks are stored, not
 * followed. Every method throws a {@link FakeFileSystemError} where a shell command would fail.
 */
export interface FakeFileSystem {
  /** Information about an entry, or `undefined` if there is none. */
  stat(path: string): FakeFileStat | undefined;
  /** A file's content; throws for a missing path or a directory. */
  readFile(path: string): Buffer;
  /** Creates or replaces a file, creating missing parent directories. Default mode `0o644`. */
  writeFile(path: string, data: string | Uint8Array, options?: { mode?: number; mtime?: Date }): void;
  /** Creates a directory and missing parents; an existing directory is fine. Default mode `0o755`. */
  mkdir(path: string, options?: { mode?: number; mtime?: Date }): void;
  /** Creates a symlink pointing at `target` (not checked). */
  symlink(path: string, target: string): void;
  /** Removes an entry, a directory with everything in it. */
  remove(path: string): void;
  /** Names in a directory, sorted. */
  list(path: string): string[];
  /** Total bytes of file content held, bounded by the fake's per-pod limit (64 MiB). */
  readonly bytesUsed: number;
}

/** A failed file operation, with the errno name and the text a shell would print. */
export class FakeFileSystemError extends Error {
  readonly code: 'ENOENT' | 'ENOTDIR' | 'EISDIR' | 'ENOSPC' | 'EINVAL';

  constructor(code: FakeFileSystemError['code'], path: string) {
    const text = { ENOENT: 'No such file or directory', ENOTDIR: 'Not a directory', EISDIR: 'Is a directory', ENOSPC: 'No space left on device', EINVAL: 'Invalid argument' }[code];
    super(`${path}: ${text}`);
    this.name = 'FakeFileSystemError';
    this.code = code;
  }
}

/** Bytes of file content one pod may hold: `kubectl cp` of large files fails as on a full disk. */
export const MAX_POD_BYTES = 64 * 1024 * 1024;
/** Entries one pod may hold. */
const MAX_ENTRIES = 10_000;
const MAX_PATH = 4096;

type Entry =
  | { type: 'directory'; mode: number; mtime: Date; children: Map<string, Entry> }
  | { type: 'file'; mode: number; mtime: Date; data: Buffer }
  | { type: 'symlink'; mode: number; mtime: Date; target: string };

/** Splits a path into its names, resolving `.` and `..` (never above `/`). */
export function pathNames(path: string): string[] {
  if (path.length > MAX_PATH || path.includes('\0')) throw new FakeFileSystemError('EINVAL', path);
  const names: string[] = [];
  for (const name of path.split('/')) {
    if (name === '' || name === '.') continue;
    if (name === '..') names.pop();
    else names.push(name);
  }
  return names;
}

/** The built-in file system; see {@link FakeFileSystem}. */
export class FileTree implements FakeFileSystem {
  readonly #root: Entry & { type: 'directory' } = { type: 'directory', mode: 0o755, mtime: new Date(), children: new Map() };
  #bytes = 0;
  #entries = 1;

  /** @param initial files to create, by path; the standard top-level directories always exist. */
  constructor(initial: Readonly<Record<string, string | Uint8Array>> = {}) {
    for (const name of ['bin', 'dev', 'etc', 'home', 'proc', 'root', 'tmp', 'usr', 'var']) this.mkdir(`/${name}`, { mode: name === 'tmp' ? 0o1777 : 0o755 });
    for (const [path, data] of Object.entries(initial)) this.writeFile(path, data);
  }

  get bytesUsed(): number {
    return this.#bytes;
  }

  stat(path: string): FakeFileStat | undefined {
    const entry = this.#find(pathNames(path), path);
    if (!entry) return undefined;
    const size = entry.type === 'file' ? entry.data.length : entry.type === 'symlink' ? Buffer.byteLength(entry.target) : 0;
    return { type: entry.type, size, mode: entry.mode, mtime: entry.mtime, ...(entry.type === 'symlink' ? { linkTarget: entry.target } : {}) };
  }

  readFile(path: string): Buffer {
    const entry = this.#find(pathNames(path), path);
    if (!entry) throw new FakeFileSystemError('ENOENT', path);
    if (entry.type === 'directory') throw new FakeFileSystemError('EISDIR', path);
    if (entry.type === 'symlink') throw new FakeFileSystemError('ENOENT', path);
    return entry.data;
  }

  writeFile(path: string, data: string | Uint8Array, options: { mode?: number; mtime?: Date } = {}): void {
    const bytes = Buffer.from(data);
    const { parent, name, existing } = this.#slot(path);
    if (existing?.type === 'directory') throw new FakeFileSystemError('EISDIR', path);
    const freed = existing?.type === 'file' ? existing.data.length : 0;
    if (this.#bytes - freed + bytes.length > MAX_POD_BYTES) throw new FakeFileSystemError('ENOSPC', path);
    this.#bytes += bytes.length - freed;
    parent.children.set(name, { type: 'file', mode: options.mode ?? 0o644, mtime: options.mtime ?? new Date(), data: bytes });
  }

  mkdir(path: string, options: { mode?: number; mtime?: Date } = {}): void {
    const names = pathNames(path);
    let directory = this.#root;
    for (const [index, name] of names.entries()) {
      const next = directory.children.get(name);
      if (next?.type === 'directory') {
        directory = next;
        continue;
      }
      if (next) throw new FakeFileSystemError('ENOTDIR', `/${names.slice(0, index + 1).join('/')}`);
      this.#count(path);
      const created: Entry & { type: 'directory' } = { type: 'directory', mode: options.mode ?? 0o755, mtime: options.mtime ?? new Date(), children: new Map() };
      directory.children.set(name, created);
      directory = created;
    }
  }

  symlink(path: string, target: string): void {
    const { parent, name, existing } = this.#slot(path);
    if (existing?.type === 'directory') throw new FakeFileSystemError('EISDIR', path);
    parent.children.set(name, { type: 'symlink', mode: 0o777, mtime: new Date(), target });
  }

  remove(path: string): void {
    const names = pathNames(path);
    const name = names.pop();
    const parent = this.#find(names, path);
    const entry = name === undefined ? undefined : parent?.type === 'directory' ? parent.children.get(name) : undefined;
    if (!entry || parent?.type !== 'directory' || name === undefined) throw new FakeFileSystemError('ENOENT', path);
    parent.children.delete(name);
    const forget = (gone: Entry): void => {
      this.#entries--;
      if (gone.type === 'file') this.#bytes -= gone.data.length;
      if (gone.type === 'directory') for (const child of gone.children.values()) forget(child);
    };
    forget(entry);
  }

  list(path: string): string[] {
    const entry = this.#find(pathNames(path), path);
    if (!entry) throw new FakeFileSystemError('ENOENT', path);
    if (entry.type !== 'directory') throw new FakeFileSystemError('ENOTDIR', path);
    return [...entry.children.keys()].sort();
  }

  #find(names: readonly string[], path: string): Entry | undefined {
    let entry: Entry = this.#root;
    for (const name of names) {
      if (entry.type !== 'directory') throw new FakeFileSystemError('ENOTDIR', path);
      const next = entry.children.get(name);
      if (!next) return undefined;
      entry = next;
    }
    return entry;
  }

  /** Where an entry at `path` goes: its parent directory (created if missing) and name. */
  #slot(path: string): { parent: Entry & { type: 'directory' }; name: string; existing: Entry | undefined } {
    const names = pathNames(path);
    const name = names.pop();
    if (name === undefined) throw new FakeFileSystemError('EISDIR', path);
    this.mkdir(`/${names.join('/')}`);
    const parent = this.#find(names, path);
    if (parent?.type !== 'directory') throw new FakeFileSystemError('ENOTDIR', path);
    const existing = parent.children.get(name);
    if (!existing) this.#count(path);
    return { parent, name, existing };
  }

  #count(path: string): void {
    if (this.#entries >= MAX_ENTRIES) throw new FakeFileSystemError('ENOSPC', path);
    this.#entries++;
  }
}
