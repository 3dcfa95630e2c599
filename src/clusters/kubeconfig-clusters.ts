import { watch, type FSWatcher } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { ClusterProxyError, InvalidOptionError, KubeconfigError } from '../errors.ts';
import { checkKnownOptions } from '../known-options.ts';
import { validateClusterConfig, type AuthMode, type ClusterConfig } from './cluster-config.ts';
import { clusterNameProblem } from './cluster-name.ts';
import type { ClusterResolver, ClusterResolverEvent } from './cluster-resolver.ts';
import { contextToCluster } from './kubeconfig-context.ts';
import { loadKubeconfigs } from './kubeconfig-file.ts';

/** A context name, or a pattern that context names are tested against. */
export type ContextMatcher = string | RegExp;

/** Options of {@link kubeconfigClusters}. */
export interface KubeconfigClustersOptions {
  /**
   * Kubeconfig files, merged in order (for a name, the first file wins). Default: the files in
   * `KUBECONFIG` (separated by `:`, `;` on Windows), else `~/.kube/config`.
   */
  paths?: readonly string[];
  /** Reload when a file changes, appears or disappears. Default `true`. */
  watch?: boolean;
  /** Only these contexts. Default: all. */
  include?: readonly ContextMatcher[];
  /** Not these contexts. Default: none. */
  exclude?: readonly ContextMatcher[];
  /**
   * Cluster names for contexts, e.g. for EKS contexts whose ARN names contain `/`:
   * `{ 'arn:aws:eks:eu-west-1:123:cluster/prod': 'prod' }` or a function. Default: the context name.
   */
  rename?: Readonly<Record<string, string>> | ((context: string) => string);
  /**
   * `authMode` of contexts whose user has credentials. Contexts without credentials are always
   * `'user'`. Default `'cluster'`.
   */
  authMode?: AuthMode;
  /**
   * Reach the contexts' clusters over HTTP/2 (see {@link ClusterConfig.http2}); kubeconfig has no
   * field for it (client-go always offers HTTP/2). Default `false`.
   */
  http2?: boolean;
  /** Per-context overrides, by context name: `{ 'oidc-ctx': { authMode: 'user-then-cluster', http2: true } }`. */
  contexts?: Readonly<Record<string, { authMode?: AuthMode; http2?: boolean }>>;
  /** Milliseconds to wait for a burst of file events to settle before reloading. Default `100`. */
  debounceMs?: number;
}

const DEFAULTS = { watch: true, authMode: 'cluster', debounceMs: 100 } as const satisfies KubeconfigClustersOptions;

interface State {
  clusters: Map<string, ClusterConfig | KubeconfigError>;
  errors: KubeconfigError[];
}

/** The kubeconfig files kubectl would read. */
export function defaultKubeconfigPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = (env.KUBECONFIG ?? '').split(delimiter).filter((p) => p !== '');
  return fromEnv.length > 0 ? fromEnv : [join(homedir(), '.kube', 'config')];
}

function matches(matchers: readonly ContextMatcher[], name: string): boolean {
  return matchers.some((m) => (typeof m === 'string' ? m === name : m.test(name)));
}

function checkOptions(options: KubeconfigClustersOptions): void {
  checkKnownOptions(options, ['paths', 'watch', 'include', 'exclude', 'rename', 'authMode', 'http2', 'contexts', 'debounceMs'], 'kubeconfigClusters');
  const { paths, include, exclude, rename, authMode, http2, contexts, debounceMs } = options;
  if (paths !== undefined && !(Array.isArray(paths) && paths.length > 0 && paths.every((p) => typeof p === 'string' && p !== ''))) {
    throw new InvalidOptionError('kubeconfigClusters: paths must be a non-empty array of file paths');
  }
  for (const [key, list] of [['include', include], ['exclude', exclude]] as const) {
    if (list !== undefined && !(Array.isArray(list) && list.every((m) => typeof m === 'string' || m instanceof RegExp))) {
      throw new InvalidOptionError(`kubeconfigClusters: ${key} must be an array of context names or regular expressions`);
    }
  }
  if (rename !== undefined && typeof rename !== 'function' && (typeof rename !== 'object' || rename === null)) {
    throw new InvalidOptionError('kubeconfigClusters: rename must be an object mapping context names to cluster names, or a function');
  }
  const modes = ['user', 'cluster', 'user-then-cluster'];
  if (authMode !== undefined && !modes.includes(authMode)) {
    throw new InvalidOptionError(`kubeconfigClusters: authMode must be one of ${modes.join(', ')}; got ${JSON.stringify(authMode)}`);
  }
  if (http2 !== undefined && typeof http2 !== 'boolean') throw new InvalidOptionError(`kubeconfigClusters: http2 must be a boolean; got ${JSON.stringify(http2)}`);
  for (const [context, override] of Object.entries(contexts ?? {})) {
    checkKnownOptions(override ?? {}, ['authMode', 'http2'], `kubeconfigClusters: contexts["${context}"]`);
    if (override?.authMode !== undefined && !modes.includes(override.authMode)) {
      throw new InvalidOptionError(`kubeconfigClusters: contexts["${context}"].authMode must be one of ${modes.join(', ')}`);
    }
    if (override?.http2 !== undefined && typeof override.http2 !== 'boolean') {
      throw new InvalidOptionError(`kubeconfigClusters: contexts["${context}"].http2 must be a boolean; got ${JSON.stringify(override.http2)}`);
    }
  }
  if (debounceMs !== undefined && !(typeof debounceMs === 'number' && debounceMs >= 0)) {
    throw new InvalidOptionError('kubeconfigClusters: debounceMs must be a number of milliseconds');
  }
}

/**
 * A {@link ClusterResolver} over kubeconfig files, read the way kubectl reads them: every context
 * becomes a cluster named after the context. One broken context (a missing certificate file, an
 * unsupported field) does not hide the others: requests for it answer a `Status` naming the
 * context and the problem, which is also reported when the files are loaded.
 *
 * With `watch` (the default), a changed, added or removed file updates the clusters within about
 * `debounceMs`; a file that stops parsing keeps the last good clusters and reports the error.
 * @throws {KubeconfigError} when a file is malformed at construction (naming the file and field).
 * @throws {InvalidOptionError} for invalid options.
 */
export function kubeconfigClusters(options: KubeconfigClustersOptions = {}): ClusterResolver {
  checkOptions(options);
  const paths = (options.paths ?? defaultKubeconfigPaths()).map((p) => resolve(p));
  const listeners = new Set<(event: ClusterResolverEvent) => void>();

  const rename = (context: string): string => {
    const { rename: r } = options;
    if (typeof r === 'function') return r(context);
    return r?.[context] ?? context;
  };

  function load(): State {
    const merged = loadKubeconfigs(paths);
    const state: State = { clusters: new Map(), errors: [] };
    // kubectl skips missing files in KUBECONFIG; only none at all is worth reporting.
    if (merged.missing.length === paths.length) {
      state.errors.push(new KubeconfigError(`no kubeconfig file exists: ${paths.join(', ')}`, { file: paths[0] }));
    }
    for (const context of merged.contexts.values()) {
      if (options.include && !matches(options.include, context.name)) continue;
      if (options.exclude && matches(options.exclude, context.name)) continue;
      const name = rename(context.name);
      let entry: ClusterConfig | KubeconfigError;
      try {
        const problem = typeof name === 'string' ? clusterNameProblem(name) : 'it must be a string';
        if (problem) {
          throw new KubeconfigError(
            `kubeconfig ${context.file}: context "${context.name}" cannot be a cluster name (${problem}); give it another name with the rename option`,
            { file: context.file },
          );
        }
        if (state.clusters.has(name)) {
          throw new KubeconfigError(`kubeconfig ${context.file}: context "${context.name}" is renamed to "${name}", which another context already uses`, { file: context.file });
        }
        const override = options.contexts?.[context.name];
        const cluster = contextToCluster(context, merged, {
          name,
          authMode: options.authMode ?? DEFAULTS.authMode,
          ...(override?.authMode ? { authModeOverride: override.authMode } : {}),
        });
        entry = (override?.http2 ?? options.http2) ? { ...cluster, http2: true } : cluster;
        validateClusterConfig(entry, `kubeconfig ${context.file}: context "${context.name}"`);
      } catch (error) {
        // Validation errors already name the context; anything else is given its context here.
        const message = error instanceof ClusterProxyError ? error.message : `kubeconfig ${context.file}: context "${context.name}": ${(error as Error).message}`;
        entry = new KubeconfigError(message, { file: context.file, cluster: name, cause: error });
        state.errors.push(entry);
      }
      if (!state.clusters.has(name)) state.clusters.set(name, entry);
    }
    return state;
  }

  let state = load();

  function emit(event: ClusterResolverEvent): void {
    for (const listener of listeners) listener(event);
  }

  const watchers: FSWatcher[] = [];
  if (options.watch ?? DEFAULTS.watch) {
    let timer: NodeJS.Timeout | undefined;
    const reload = () => {
      timer = undefined;
      try {
        state = load();
      } catch (error) {
        emit({ type: 'error', error: error as Error });
        return;
      }
      emit({ type: 'reload', clusters: [...state.clusters.keys()] });
      for (const error of state.errors) emit({ type: 'error', error });
    };
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(reload, options.debounceMs ?? DEFAULTS.debounceMs);
      timer.unref();
    };
    // Folders, not files: editors and Kubernetes ConfigMap mounts replace files by renaming, which
    // a watch on the old file would not see.
    const names = new Map<string, Set<string>>();
    for (const path of paths) {
      const dir = dirname(path);
      names.set(dir, (names.get(dir) ?? new Set()).add(basename(path)));
    }
    for (const [dir, files] of names) {
      try {
        const watcher = watch(dir, { persistent: false }, (_event, file) => {
          if (file === null || files.has(file) || file.startsWith('..')) schedule();
        });
        watcher.on('error', (error) => emit({ type: 'error', error }));
        watchers.push(watcher);
      } catch (error) {
        state.errors.push(new KubeconfigError(`kubeconfig folder ${dir} cannot be watched: ${(error as Error).message}`, { cause: error }));
      }
    }
  }

  return {
    resolve(name) {
      const entry = state.clusters.get(name);
      if (entry instanceof KubeconfigError) throw entry;
      return entry;
    },
    list: () => [...state.clusters.values()].filter((c): c is ClusterConfig => !(c instanceof KubeconfigError)),
    subscribe(listener) {
      listeners.add(listener);
      // What went wrong at load time is reported to whoever subscribes first.
      for (const error of state.errors) listener({ type: 'error', error });
      return () => listeners.delete(listener);
    },
    close() {
      for (const watcher of watchers) watcher.close();
      listeners.clear();
    },
  };
}
