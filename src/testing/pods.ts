import { randomBytes, randomUUID } from 'node:crypto';
import type { FakePortHandler } from './port-targets.ts';
import { badRequest } from './status.ts';

/** Lifecycle phase of a fake pod, as in `status.phase`. */
export type FakePodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/** A container of a {@link FakePod}. */
export interface FakeContainer {
  /** Container name. Required (a DNS label). */
  name: string;
  /** Image reference shown in spec and status. Default: `'registry.example/app:1.0'`. */
  image?: string;
  /** Whether the container reports ready. Default: `true` while the pod phase is `Running`. */
  ready?: boolean;
  /** Restart count shown in status and in the Restarts column. Default: `0`. */
  restartCount?: number;
  /** Initial log lines (without trailing newline). Default: none. */
  logs?: string[];
  /**
   * The container's main process, run with the built-in commands (e.g. `['sh']`): the first attach
   * starts it, it keeps running between attaches, and it starts again after it exits. Default:
   * none; attach then echoes the client's stdin back, like `cat`.
   */
  command?: string[];
  /** `spec.containers[].stdin`: the main process reads stdin (`kubectl attach -i`). Default: `true` when `command` is set. */
  stdin?: boolean;
  /** `spec.containers[].tty`: the main process has a terminal (`kubectl attach -t`). Default: `false`. */
  tty?: boolean;
}

/** A pod of the fake cluster, as tests describe it; the cluster fills in everything else a real pod has. */
export interface FakePod {
  /** Pod name. Required (a DNS-1123 subdomain). */
  name: string;
  /** Namespace (a DNS label); it exists as long as a pod uses it. Default: `'default'`. */
  namespace?: string;
  /** Labels, matched by `labelSelector`. Default: none. */
  labels?: Record<string, string>;
  /** Annotations. Default: none. */
  annotations?: Record<string, string>;
  /** Phase. Default: `'Running'`. */
  phase?: FakePodPhase;
  /** Containers; the first one is the default container for logs. Default: one container named `app`. */
  containers?: FakeContainer[];
  /** Node name. Default: `'<cluster name>-node-1'`. */
  nodeName?: string;
  /** Pod IP. Default: a random address in 10.244.0.0/16. */
  podIP?: string;
  /** Creation time. Default: when the pod is added. */
  creationTimestamp?: Date;
  /**
   * What listens on the pod's ports, for port-forward, e.g. `{ 8080: (req, res) => res.end('ok') }`.
   * Ports not listed refuse connections. Default: every port is a TCP echo server.
   */
  ports?: Record<number, FakePortHandler>;
  /** Files (by absolute path) of the pod's in-memory file system, beside the usual top-level directories. Default: none. */
  files?: Record<string, string | Uint8Array>;
}

/** Fields of a pod that {@link FakeCluster.updatePod} may change (files change through {@link FakeCluster.podFiles}). */
export type FakePodPatch = Partial<Omit<FakePod, 'name' | 'namespace' | 'files'>>;

export interface LogLine {
  readonly time: Date;
  readonly text: string;
}

/** The normalized pod the store keeps. */
export interface StoredPod {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly resourceVersion: number;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly phase: FakePodPhase;
  readonly containers: readonly Required<Omit<FakeContainer, 'logs'>>[];
  readonly nodeName: string;
  readonly podIP: string;
  readonly creationTimestamp: Date;
  readonly containerIds: Readonly<Record<string, string>>;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PHASES: readonly FakePodPhase[] = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'];

export function isDnsLabel(value: string): boolean {
  return DNS_LABEL.test(value);
}

function randomPodIp(): string {
  const [a = 0, b = 1] = randomBytes(2);
  return `10.244.${a}.${Math.max(b, 2)}`;
}

/** Validates a pod description (messages name the field and the rule) and fills in defaults. */
export function normalizePod(pod: FakePod, previous: StoredPod | undefined, defaults: { nodeName: string; resourceVersion: number }): StoredPod {
  const where = `pod ${JSON.stringify(pod.name)}`;
  if (typeof pod.name !== 'string' || !DNS_SUBDOMAIN.test(pod.name)) {
    throw new TypeError(`pod name must be a DNS-1123 subdomain (lowercase alphanumerics, '-', '.'), got ${JSON.stringify(pod.name)}`);
  }
  const namespace = pod.namespace ?? 'default';
  if (!isDnsLabel(namespace)) throw new TypeError(`${where}: namespace must be a DNS-1123 label, got ${JSON.stringify(namespace)}`);
  const phase = pod.phase ?? previous?.phase ?? 'Running';
  if (!PHASES.includes(phase)) throw new TypeError(`${where}: phase must be one of ${PHASES.join(', ')}, got ${JSON.stringify(phase)}`);
  const containers = (pod.containers ?? previous?.containers ?? [{ name: 'app' }]).map((container) => {
    if (!isDnsLabel(container.name)) {
      throw new TypeError(`${where}: container name must be a DNS-1123 label, got ${JSON.stringify(container.name)}`);
    }
    const restartCount = container.restartCount ?? 0;
    if (!Number.isInteger(restartCount) || restartCount < 0) {
      throw new TypeError(`${where}: restartCount of container ${container.name} must be a non-negative integer`);
    }
    const command = container.command ?? [];
    if (!Array.isArray(command) || !command.every((word) => typeof word === 'string')) {
      throw new TypeError(`${where}: command of container ${container.name} must be an array of strings`);
    }
    return {
      name: container.name,
      image: container.image ?? 'registry.example/app:1.0',
      ready: container.ready ?? phase === 'Running',
      restartCount,
      command: [...command],
      stdin: container.stdin ?? command.length > 0,
      tty: container.tty ?? false,
    };
  });
  if (containers.length === 0) throw new TypeError(`${where}: a pod needs at least one container`);
  if (new Set(containers.map((c) => c.name)).size !== containers.length) {
    throw new TypeError(`${where}: container names must be unique`);
  }
  const containerIds: Record<string, string> = {};
  for (const container of containers) {
    containerIds[container.name] = previous?.containerIds[container.name] ?? randomBytes(32).toString('hex');
  }
  return {
    name: pod.name,
    namespace,
    uid: previous?.uid ?? randomUUID(),
    resourceVersion: defaults.resourceVersion,
    labels: { ...(pod.labels ?? previous?.labels ?? {}) },
    annotations: { ...(pod.annotations ?? previous?.annotations ?? {}) },
    phase,
    containers,
    nodeName: pod.nodeName ?? previous?.nodeName ?? defaults.nodeName,
    podIP: pod.podIP ?? previous?.podIP ?? randomPodIp(),
    creationTimestamp: pod.creationTimestamp ?? previous?.creationTimestamp ?? new Date(),
    containerIds,
  };
}

/** Kubernetes serializes times in RFC 3339 with second precision. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function containerState(pod: StoredPod): Record<string, unknown> {
  const startedAt = rfc3339(pod.creationTimestamp);
  switch (pod.phase) {
    case 'Pending':
      return { waiting: { reason: 'ContainerCreating' } };
    case 'Succeeded':
      return { terminated: { exitCode: 0, reason: 'Completed', startedAt, finishedAt: startedAt } };
    case 'Failed':
      return { terminated: { exitCode: 1, reason: 'Error', startedAt, finishedAt: startedAt } };
    default:
      return { running: { startedAt } };
  }
}

/** The container fields kube-apiserver defaults, as a created pod shows them. */
export const CONTAINER_DEFAULTS = {
  resources: {},
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
  imagePullPolicy: 'IfNotPresent',
} as const;

/** The pod spec fields kube-apiserver (and the scheduler) fill in. */
export const POD_SPEC_DEFAULTS = {
  restartPolicy: 'Always',
  terminationGracePeriodSeconds: 30,
  dnsPolicy: 'ClusterFirst',
  serviceAccountName: 'default',
  schedulerName: 'default-scheduler',
  enableServiceLinks: true,
} as const;

/** The status the fake's kubelet reports for a pod. */
export function podStatus(pod: StoredPod): Record<string, unknown> {
  const created = rfc3339(pod.creationTimestamp);
  const allReady = pod.containers.every((c) => c.ready);
  const condition = (type: string, status: boolean) => ({ type, status: status ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: created });
  return {
    phase: pod.phase,
    conditions: [
      condition('PodReadyToStartContainers', pod.phase !== 'Pending'),
      condition('Initialized', true),
      condition('Ready', pod.phase === 'Running' && allReady),
      condition('ContainersReady', pod.phase === 'Running' && allReady),
      condition('PodScheduled', true),
    ],
    hostIP: '10.0.0.10',
    hostIPs: [{ ip: '10.0.0.10' }],
    podIP: pod.podIP,
    podIPs: [{ ip: pod.podIP }],
    startTime: created,
    containerStatuses: pod.containers.map((c) => ({
      name: c.name,
      state: containerState(pod),
      lastState: {},
      ready: c.ready,
      restartCount: c.restartCount,
      image: c.image,
      imageID: `${c.image}@sha256:${pod.containerIds[c.name]?.slice(0, 64) ?? ''}`,
      containerID: `containerd://${pod.containerIds[c.name] ?? ''}`,
      started: pod.phase === 'Running',
    })),
    qosClass: 'BestEffort',
  };
}

/** The v1 Pod object, shaped like what kube-apiserver returns. */
export function podObject(pod: StoredPod): Record<string, unknown> {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name: pod.name,
      namespace: pod.namespace,
      uid: pod.uid,
      resourceVersion: String(pod.resourceVersion),
      creationTimestamp: rfc3339(pod.creationTimestamp),
      ...(Object.keys(pod.labels).length > 0 ? { labels: pod.labels } : {}),
      ...(Object.keys(pod.annotations).length > 0 ? { annotations: pod.annotations } : {}),
    },
    spec: {
      containers: pod.containers.map((c) => ({
        name: c.name,
        image: c.image,
        ...(c.command.length > 0 ? { command: c.command } : {}),
        ...(c.stdin ? { stdin: true } : {}),
        ...(c.tty ? { tty: true } : {}),
        ...CONTAINER_DEFAULTS,
      })),
      ...POD_SPEC_DEFAULTS,
      nodeName: pod.nodeName,
    },
    status: podStatus(pod),
  };
}

/** The container a log or exec request addresses: the named one, or the only one; else a BadRequest. */
export function chooseContainer(pod: StoredPod, requested: string | null): string {
  if (requested === null || requested === '') {
    const [only, ...others] = pod.containers;
    if (!only || others.length > 0) {
      throw badRequest(`a container name must be specified for pod ${pod.name}, choose one of: [${pod.containers.map((c) => c.name).join(' ')}]`);
    }
    return only.name;
  }
  if (!pod.containers.some((c) => c.name === requested)) {
    throw badRequest(`container ${requested} is not valid for pod ${pod.name}`);
  }
  return requested;
}
