import { createHash } from 'node:crypto';
import type { StoredPod } from './pods.ts';
import { podObject, rfc3339 } from './pods.ts';
import { badRequest } from './status.ts';

/** How rows carry their object: kubectl's `includeObject` query parameter. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** Whether the Accept header asks for a meta.k8s.io Table (server-side printing, as kubectl does). */
export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((type) => /;\s*as=Table\b/.test(type) && /;\s*g=meta\.k8s\.io\b/.test(type));
}

export function includeObjectParameter(query: URLSearchParams): IncludeObject {
  const value = query.get('includeObject') ?? 'Metadata';
  if (value !== 'None' && value !== 'Metadata' && value !== 'Object') {
    throw badRequest(`includeObject: Unsupported value: "${value}": supported values: "None", "Metadata", "Object"`);
  }
  return value;
}

/** kubectl's short, human-readable age ("42s", "5m10s", "3h", "12d"). */
function humanAge(from: Date, now = new Date()): string {
  const seconds = Math.max(0, Math.floor((now.getTime() - from.getTime()) / 1000));
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(minutes / 60);
  const days = Math.floor(hours / 24);
  if (seconds < 120) return `${seconds}s`;
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (hours < 3) return `${minutes}m`;
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (days < 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (days < 365 * 2) return `${days}d`;
  return `${Math.floor(days / 365)}y`;
}

interface Column {
  readonly name: string;
  readonly type: string;
  readonly format: string;
  readonly description: string;
  readonly priority: number;
}

const column = (name: string, description: string, priority = 0, format = ''): Column => ({ name, type: 'string', format, description, priority });

const POD_COLUMNS: readonly Column[] = [
  column('Name', 'Name must be unique within a namespace.', 0, 'name'),
  column('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
  column('Status', 'The aggregate status of the containers in this pod.'),
  column('Restarts', 'The number of times the containers in this pod have been restarted.'),
  column('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.'),
  column('IP', 'IP address allocated to the pod.', 1),
  column('Node', 'Name of the node this pod is scheduled to.', 1),
];

const NAMESPACE_COLUMNS: readonly Column[] = [
  column('Name', 'Name must be unique within a namespace.', 0, 'name'),
  column('Status', 'The status of the namespace'),
  column('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.'),
];

const POD_STATUS: Record<StoredPod['phase'], string> = {
  Pending: 'ContainerCreating',
  Running: 'Running',
  Succeeded: 'Completed',
  Failed: 'Error',
  Unknown: 'Unknown',
};

function rowObject(object: Record<string, unknown>, include: IncludeObject): Record<string, unknown> | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return object;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
}

function table(columns: readonly Column[], rows: unknown[], resourceVersion: number): Record<string, unknown> {
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: String(resourceVersion) }, columnDefinitions: columns, rows };
}

export function podTable(pods: readonly StoredPod[], include: IncludeObject, resourceVersion: number): Record<string, unknown> {
  const rows = pods.map((pod) => ({
    cells: [
      pod.name,
      `${pod.containers.filter((c) => c.ready).length}/${pod.containers.length}`,
      POD_STATUS[pod.phase],
      String(pod.containers.reduce((sum, c) => sum + c.restartCount, 0)),
      humanAge(pod.creationTimestamp),
      pod.podIP,
      pod.nodeName,
    ],
    object: rowObject(podObject(pod), include),
  }));
  return table(POD_COLUMNS, rows, resourceVersion);
}

/** The same UUID-shaped uid for a namespace name every time, as namespaces here are derived, not stored. */
function stableUid(name: string): string {
  const hex = createHash('sha1').update(name).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** A Namespace object; namespaces of the fake exist as long as pods use them (and `default` always). */
export function namespaceObject(name: string, created: Date): Record<string, unknown> {
  return {
    kind: 'Namespace',
    apiVersion: 'v1',
    metadata: {
      name,
      uid: stableUid(name),
      resourceVersion: '1',
      creationTimestamp: rfc3339(created),
      labels: { 'kubernetes.io/metadata.name': name },
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

export function namespaceTable(names: readonly string[], created: Date, include: IncludeObject, resourceVersion: number): Record<string, unknown> {
  const rows = names.map((name) => ({ cells: [name, 'Active', humanAge(created)], object: rowObject(namespaceObject(name, created), include) }));
  return table(NAMESPACE_COLUMNS, rows, resourceVersion);
}
