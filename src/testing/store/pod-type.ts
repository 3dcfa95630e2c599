import type { FieldError } from '../status.ts';
import { CONTAINER_DEFAULTS, normalizePod, POD_SPEC_DEFAULTS, podStatus, type FakePodPhase, type StoredPod } from '../pods.ts';
import { humanAge } from '../tables.ts';
import { isObject, metadataOf, type KubeObject } from './objects.ts';
import { AGE_COLUMN, column, NAME_COLUMN, type DraftObject, type ResourceType } from './resource-type.ts';
import { POD_SCHEMA } from './schema.ts';
import { DNS_LABEL_RULE, duplicateValue, invalidValue, isDnsLabelName, required } from './validation.ts';

const PHASES: readonly FakePodPhase[] = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'];

const records = (value: unknown): Record<string, unknown>[] => (Array.isArray(value) ? value.filter(isObject) : []);
const text = (value: unknown, fallback = ''): string => (typeof value === 'string' ? value : fallback);

/** The pod as the log, exec and table code see it, read from the stored object. */
export function podView(object: KubeObject): StoredPod {
  const meta = metadataOf(object);
  const spec = isObject(object.spec) ? object.spec : {};
  const status = isObject(object.status) ? object.status : {};
  const statuses = new Map(records(status.containerStatuses).map((entry) => [text(entry.name), entry]));
  const phase = text(status.phase, 'Pending') as FakePodPhase;
  const containerIds: Record<string, string> = {};
  const containers = records(spec.containers).map((container) => {
    const name = text(container.name);
    const entry = statuses.get(name) ?? {};
    containerIds[name] = text(entry.containerID).replace(/^[a-z]+:\/\//, '');
    return {
      name,
      image: text(container.image),
      command: Array.isArray(container.command) ? container.command.filter((part): part is string => typeof part === 'string') : [],
      stdin: container.stdin === true,
      tty: container.tty === true,
      ready: entry.ready === true,
      restartCount: typeof entry.restartCount === 'number' ? entry.restartCount : 0,
    };
  });
  return {
    name: meta.name ?? '',
    namespace: meta.namespace ?? '',
    uid: meta.uid ?? '',
    resourceVersion: Number(meta.resourceVersion ?? 0),
    labels: { ...(meta.labels ?? {}) },
    annotations: { ...(meta.annotations ?? {}) },
    phase: PHASES.includes(phase) ? phase : 'Unknown',
    containers,
    nodeName: text(spec.nodeName),
    podIP: text(status.podIP),
    creationTimestamp: new Date(meta.creationTimestamp ?? 0),
    containerIds,
  };
}

function defaultContainer(container: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(CONTAINER_DEFAULTS)) container[key] ??= structuredClone(value);
  if (container.imagePullPolicy === CONTAINER_DEFAULTS.imagePullPolicy && /(:latest|^[^:@]*)$/.test(text(container.image))) container.imagePullPolicy = 'Always';
  for (const port of records(container.ports)) port.protocol ??= 'TCP';
}

/** Fills the pod spec defaults kube-apiserver sets (also for a deployment's pod template). */
export function defaultPodSpec(spec: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(POD_SPEC_DEFAULTS)) spec[key] ??= value;
  spec.securityContext ??= {};
  for (const list of ['containers', 'initContainers']) records(spec[list]).forEach(defaultContainer);
}

/** Pod spec validation: the containers a pod must have, named and with an image. */
export function validatePodSpec(spec: unknown, path: string): FieldError[] {
  if (!isObject(spec)) return [required(path)];
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0) return [required(`${path}.containers`)];
  const errors: FieldError[] = [];
  const names = new Set<string>();
  containers.forEach((container: unknown, index) => {
    const where = `${path}.containers[${index}]`;
    if (!isObject(container)) {
      errors.push(invalidValue(where, container, 'must be an object'));
      return;
    }
    if (container.name === undefined || container.name === '') errors.push(required(`${where}.name`));
    else if (!isDnsLabelName(container.name)) errors.push(invalidValue(`${where}.name`, container.name, DNS_LABEL_RULE));
    else if (names.has(container.name)) errors.push(duplicateValue(`${where}.name`, container.name));
    else names.add(container.name);
    if (typeof container.image !== 'string' || container.image.trim() === '') errors.push(required(`${where}.image`));
  });
  return errors;
}

const POD_STATUS_TEXT: Record<StoredPod['phase'], string> = {
  Pending: 'ContainerCreating',
  Running: 'Running',
  Succeeded: 'Completed',
  Failed: 'Error',
  Unknown: 'Unknown',
};

/** Pods: stored with the spec the client sent; the fake's kubelet reports every container running and ready. */
export const POD_TYPE: ResourceType = {
  group: '',
  version: 'v1',
  resource: 'pods',
  kind: 'Pod',
  listKind: 'PodList',
  singular: 'pod',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  statusSubresource: true,
  generation: false,
  unconditionalUpdate: true,
  returnDeletedObject: true,
  strategicMergePatch: true,
  itemsCarryType: false,
  schema: POD_SCHEMA,
  selectableFields: {
    'spec.nodeName': (pod) => podView(pod).nodeName,
    'spec.restartPolicy': (pod) => text(isObject(pod.spec) ? pod.spec.restartPolicy : undefined),
    'spec.schedulerName': (pod) => text(isObject(pod.spec) ? pod.spec.schedulerName : undefined),
    'spec.serviceAccountName': (pod) => text(isObject(pod.spec) ? pod.spec.serviceAccountName : undefined),
    'status.phase': (pod) => podView(pod).phase,
    'status.podIP': (pod) => podView(pod).podIP,
  },
  columns: [
    NAME_COLUMN,
    column('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'The aggregate status of the containers in this pod.'),
    column('Restarts', 'The number of times the containers in this pod have been restarted.'),
    AGE_COLUMN,
    column('IP', 'IP address allocated to the pod.', { priority: 1 }),
    column('Node', 'Name of the node this pod is scheduled to.', { priority: 1 }),
  ],
  cells(object) {
    const pod = podView(object);
    return [
      pod.name,
      `${pod.containers.filter((c) => c.ready).length}/${pod.containers.length}`,
      POD_STATUS_TEXT[pod.phase],
      String(pod.containers.reduce((sum, c) => sum + c.restartCount, 0)),
      humanAge(pod.creationTimestamp),
      pod.podIP,
      pod.nodeName,
    ];
  },
  prepare(object: DraftObject, previous, context) {
    const errors = validatePodSpec(object.spec, 'spec');
    if (errors.length > 0) return errors;
    const spec = object.spec as Record<string, unknown>;
    defaultPodSpec(spec);
    if (previous) return [];
    spec.nodeName ??= context.nodeName;
    // The kit's helpers bring the status they describe (a Pending pod, say); an API create has none.
    if (object.status !== undefined) return [];
    // A new pod runs at once: the fake's kubelet starts every container.
    const view = normalizePod(
      {
        name: text(object.metadata.name),
        namespace: text(object.metadata.namespace, 'default'),
        containers: records(spec.containers).map((container) => ({ name: text(container.name), image: text(container.image) })),
        nodeName: text(spec.nodeName),
        creationTimestamp: new Date(),
      },
      undefined,
      { nodeName: context.nodeName, resourceVersion: 0 },
    );
    object.status = podStatus(view);
    return [];
  },
};
