import type { FieldError } from '../status.ts';
import type { KubeObject } from './objects.ts';
import type { ResourceKey } from './object-store.ts';
import type { FieldSchema } from './schema.ts';

/** A column of a meta.k8s.io Table, as `kubectl get` prints it. */
export interface TableColumn {
  readonly name: string;
  readonly type: string;
  readonly format: string;
  readonly description: string;
  readonly priority: number;
}

export function column(name: string, description: string, options: { priority?: number; format?: string; type?: string } = {}): TableColumn {
  return { name, type: options.type ?? 'string', format: options.format ?? '', description, priority: options.priority ?? 0 };
}

export const NAME_COLUMN = column('Name', 'Name must be unique within a namespace.', { format: 'name' });
export const AGE_COLUMN = column('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.');

/** What a kind's strategy may need beyond the object. */
export interface PrepareContext {
  /** The node new pods are scheduled to. */
  readonly nodeName: string;
}

/** A mutable object being written, with its metadata. */
export type DraftObject = Record<string, unknown> & { metadata: Record<string, unknown> };

/** Everything the fake knows about one resource: its names (for discovery), its storage and its rules. */
export interface ResourceType extends ResourceKey {
  readonly version: string;
  readonly kind: string;
  readonly listKind: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  /** Has a `/status` subresource: main-resource writes keep the status, status writes change only it. */
  readonly statusSubresource: boolean;
  /** Counts changes outside metadata and status in `metadata.generation`. */
  readonly generation: boolean;
  /** A PUT without `metadata.resourceVersion` overwrites (most built-ins); otherwise it is refused (custom resources). */
  readonly unconditionalUpdate: boolean;
  /** DELETE answers with the deleted object (pods, namespaces) instead of a Success Status. */
  readonly returnDeletedObject: boolean;
  /** Accepts strategic merge patches (built-in kinds only, as kube-apiserver). */
  readonly strategicMergePatch: boolean;
  /** Built-in typed lists leave out each item's kind and apiVersion; custom resources keep them. */
  readonly itemsCarryType: boolean;
  readonly schema: FieldSchema;
  /** Field selectors besides `metadata.name` and `metadata.namespace`. */
  readonly selectableFields: Readonly<Record<string, (object: KubeObject) => string>>;
  readonly columns: readonly TableColumn[];
  /** One Table row's cells, in the order of `columns`. */
  cells(object: KubeObject): unknown[];
  /**
   * Defaults and system-set fields of an object about to be stored (`previous` on updates), and its
   * validation errors (an empty list when valid).
   */
  prepare(object: DraftObject, previous: KubeObject | undefined, context: PrepareContext): FieldError[];
}

export function apiVersionOf(type: { group: string; version: string }): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

export function sameResource(a: ResourceKey, b: ResourceKey): boolean {
  return a.group === b.group && a.resource === b.resource;
}
