import { badRequest } from './status.ts';
import type { KubeObject } from './store/objects.ts';
import type { ResourceType } from './store/resource-type.ts';

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
export function humanAge(from: Date, now = new Date()): string {
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

function rowObject(object: KubeObject, include: IncludeObject): KubeObject | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return object;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
}

/** The meta.k8s.io/v1 Table `kubectl get` prints: the kind's columns, one row per object. */
export function objectTable(type: ResourceType, objects: readonly KubeObject[], include: IncludeObject, resourceVersion: string): Record<string, unknown> {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: type.columns,
    rows: objects.map((object) => ({ cells: type.cells(object), object: rowObject(object, include) })),
  };
}
