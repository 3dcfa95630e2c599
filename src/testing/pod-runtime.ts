import type { ExecHandler } from './exec-context.ts';
import { FileTree, type FakeFileSystem } from './file-tree.ts';
import { MainProcess } from './main-process.ts';
import type { FakePod, StoredPod } from './pods.ts';
import { PortTargets, type FakePortHandler } from './port-targets.ts';

/** What runs inside one pod: its files, what listens on its ports, its containers' main processes. */
export interface PodRuntime {
  readonly files: FakeFileSystem;
  ports: PortTargets;
  readonly processes: Map<string, MainProcess>;
}

/**
 * The insides of the fake's pods, by pod uid: a pod deleted and created again under the same name
 * starts afresh. Pods the test did not describe (created through the API) get the defaults.
 */
export class PodRuntimes {
  readonly #byUid = new Map<string, PodRuntime>();

  /** Sets up a pod from its description; throws (before anything is kept) when `ports` or `files` are invalid. */
  define(pod: StoredPod, spec: Pick<FakePod, 'ports' | 'files'>): void {
    const ports = new PortTargets(spec.ports);
    const files = new FileTree(spec.files ?? {});
    this.#byUid.set(pod.uid, { files, ports, processes: new Map() });
  }

  /** Replaces what listens on a pod's ports. */
  setPorts(pod: StoredPod, ports: Readonly<Record<number, FakePortHandler>> | undefined): void {
    const runtime = this.get(pod);
    const replacement = new PortTargets(ports);
    runtime.ports.close();
    runtime.ports = replacement;
  }

  get(pod: StoredPod): PodRuntime {
    let runtime = this.#byUid.get(pod.uid);
    if (!runtime) {
      runtime = { files: new FileTree(), ports: new PortTargets(undefined), processes: new Map() };
      this.#byUid.set(pod.uid, runtime);
    }
    return runtime;
  }

  /** The main process of a container that declares a `command`, created on first use. */
  mainProcess(pod: StoredPod, container: string, run: ExecHandler): MainProcess | undefined {
    const spec = pod.containers.find((c) => c.name === container);
    if (!spec || spec.command.length === 0) return undefined;
    const runtime = this.get(pod);
    let process = runtime.processes.get(container);
    if (!process) {
      process = new MainProcess(spec.command, { namespace: pod.namespace, pod: pod.name, container, tty: spec.tty, files: runtime.files }, run);
      runtime.processes.set(container, process);
    }
    return process;
  }

  /** Stops a pod's processes and servers and forgets it. */
  forget(uid: string): void {
    const runtime = this.#byUid.get(uid);
    if (!runtime) return;
    this.#byUid.delete(uid);
    runtime.ports.close();
    for (const process of runtime.processes.values()) process.stop();
  }

  close(): void {
    for (const uid of [...this.#byUid.keys()]) this.forget(uid);
  }
}
