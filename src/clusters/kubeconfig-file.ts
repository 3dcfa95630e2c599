import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse, YAMLParseError } from 'yaml';
import { KubeconfigError } from '../errors.ts';

/** A named entry of a kubeconfig list (`clusters`, `users`, `contexts`), with the file it came from. */
export interface KubeconfigEntry {
  name: string;
  /** The entry's body (`cluster`, `user` or `context`), as parsed. */
  body: Record<string, unknown>;
  /** The file that defined it: relative paths in the body resolve against its folder. */
  file: string;
  /** Where in the file, for messages: e.g. `users[2]`. */
  at: string;
}

/** Several kubeconfig files merged the way kubectl merges `KUBECONFIG`: for a name, the first file wins. */
export interface MergedKubeconfig {
  clusters: Map<string, KubeconfigEntry>;
  users: Map<string, KubeconfigEntry>;
  contexts: Map<string, KubeconfigEntry>;
  /** `current-context` of the first file that sets one. */
  currentContext: string | undefined;
  /** Files that did not exist (they count as empty, as kubectl treats them). */
  missing: string[];
}

const LISTS = { clusters: 'cluster', users: 'user', contexts: 'context' } as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses one kubeconfig document.
 * @throws {KubeconfigError} naming the file and, for structure errors, the field.
 */
export function parseKubeconfig(text: string, file: string): Omit<MergedKubeconfig, 'missing'> {
  let document: unknown;
  try {
    document = parse(text, { prettyErrors: true });
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}` : '';
    const detail = ((error as Error).message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw new KubeconfigError(`kubeconfig ${file}: invalid YAML${where}: ${detail}`, { file, cause: error });
  }
  const merged: Omit<MergedKubeconfig, 'missing'> = {
    clusters: new Map(),
    users: new Map(),
    contexts: new Map(),
    currentContext: undefined,
  };
  if (document === null || document === undefined) return merged;
  if (!isObject(document)) throw new KubeconfigError(`kubeconfig ${file}: the document must be a mapping (kind: Config)`, { file });
  if (document.kind !== undefined && document.kind !== 'Config') {
    throw new KubeconfigError(`kubeconfig ${file}: kind must be Config; got ${JSON.stringify(document.kind)}`, { file });
  }
  for (const [list, field] of Object.entries(LISTS) as [keyof typeof LISTS, string][]) {
    const items = document[list];
    if (items === undefined || items === null) continue;
    if (!Array.isArray(items)) throw new KubeconfigError(`kubeconfig ${file}: ${list} must be a list`, { file });
    items.forEach((item: unknown, index) => {
      const at = `${list}[${index}]`;
      if (!isObject(item)) throw new KubeconfigError(`kubeconfig ${file}: ${at} must be a mapping`, { file });
      if (typeof item.name !== 'string' || item.name === '') {
        throw new KubeconfigError(`kubeconfig ${file}: ${at}.name must be a non-empty string`, { file });
      }
      const body = item[field] ?? {};
      if (!isObject(body)) throw new KubeconfigError(`kubeconfig ${file}: ${at}.${field} must be a mapping`, { file });
      if (merged[list].has(item.name)) {
        throw new KubeconfigError(`kubeconfig ${file}: ${at}.name "${item.name}" is defined twice`, { file });
      }
      merged[list].set(item.name, { name: item.name, body, file, at: `${at}.${field}` });
    });
  }
  const current = document['current-context'];
  if (current !== undefined && current !== null && typeof current !== 'string') {
    throw new KubeconfigError(`kubeconfig ${file}: current-context must be a string`, { file });
  }
  merged.currentContext = current || undefined;
  return merged;
}

/**
 * Reads and merges kubeconfig files in order. A missing file counts as empty.
 * @throws {KubeconfigError} for a file that cannot be read or parsed.
 */
export function loadKubeconfigs(paths: readonly string[]): MergedKubeconfig {
  const merged: MergedKubeconfig = { clusters: new Map(), users: new Map(), contexts: new Map(), currentContext: undefined, missing: [] };
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        merged.missing.push(path);
        continue;
      }
      throw new KubeconfigError(`kubeconfig ${path}: cannot be read: ${(error as Error).message}`, { file: path, cause: error });
    }
    const one = parseKubeconfig(text, path);
    for (const list of Object.keys(LISTS) as (keyof typeof LISTS)[]) {
      for (const [name, entry] of one[list]) if (!merged[list].has(name)) merged[list].set(name, entry);
    }
    merged.currentContext ??= one.currentContext;
  }
  return merged;
}

/** A path from a kubeconfig, resolved against the folder of the file that holds it (as kubectl does). */
export function resolvePath(path: string, entry: KubeconfigEntry): string {
  return isAbsolute(path) ? path : resolve(dirname(entry.file), path);
}
