/**
 * How a kind's lists merge, from the Kubernetes type definitions' `patchMergeKey` /
 * `patchStrategy` (strategic merge patch) and `listType` / `listMapKeys` (server-side apply).
 * Lists without a rule are atomic: a patch or an apply replaces them whole.
 */
export interface FieldSchema {
  /** Schemas of an object's fields (by name). */
  readonly fields?: Readonly<Record<string, FieldSchema>>;
  /** Schema of every value of a map with arbitrary keys (CRD `additionalProperties`). */
  readonly values?: FieldSchema;
  /** A list of objects merged item by item, identified by this field (`patchMergeKey`). */
  readonly mergeKey?: string;
  /** Server-side apply's `listMapKeys` when they differ from `[mergeKey]` (container ports: port and protocol). */
  readonly listKeys?: readonly string[];
  /** A list of scalars merged as a set (`patchStrategy: merge` on strings, `listType: set`). */
  readonly set?: boolean;
  /** Schema of the items of a list. */
  readonly items?: FieldSchema;
  /** `patchStrategy: retainKeys`: a patch with `$retainKeys` clears the other keys. */
  readonly retainKeys?: boolean;
}

export function fieldSchema(schema: FieldSchema | undefined, name: string): FieldSchema | undefined {
  return schema?.fields?.[name] ?? schema?.values;
}

/** The keys identifying an item of a keyed list, for server-side apply. */
export function listKeysOf(schema: FieldSchema | undefined): readonly string[] | undefined {
  if (!schema) return undefined;
  if (schema.listKeys) return schema.listKeys;
  return schema.mergeKey === undefined ? undefined : [schema.mergeKey];
}

const CONTAINER: FieldSchema = {
  fields: {
    ports: { mergeKey: 'containerPort', listKeys: ['containerPort', 'protocol'] },
    env: { mergeKey: 'name' },
    volumeMounts: { mergeKey: 'mountPath' },
    volumeDevices: { mergeKey: 'devicePath' },
    resizePolicy: { mergeKey: 'resourceName' },
  },
};

const CONDITIONS: FieldSchema = { mergeKey: 'type' };

const OBJECT_META: FieldSchema = {
  fields: {
    finalizers: { set: true },
    ownerReferences: { mergeKey: 'uid' },
  },
};

const POD_SPEC: FieldSchema = {
  fields: {
    containers: { mergeKey: 'name', items: CONTAINER },
    initContainers: { mergeKey: 'name', items: CONTAINER },
    ephemeralContainers: { mergeKey: 'name', items: CONTAINER },
    volumes: { mergeKey: 'name', retainKeys: true },
    imagePullSecrets: { mergeKey: 'name' },
    hostAliases: { mergeKey: 'ip' },
    topologySpreadConstraints: { mergeKey: 'topologyKey', listKeys: ['topologyKey', 'whenUnsatisfiable'] },
    resourceClaims: { mergeKey: 'name', retainKeys: true },
    schedulingGates: { mergeKey: 'name' },
  },
};

/** Every kind's schema starts with metadata. */
export function objectSchema(fields: Readonly<Record<string, FieldSchema>> = {}): FieldSchema {
  return { fields: { metadata: OBJECT_META, ...fields } };
}

export const POD_SCHEMA = objectSchema({
  spec: POD_SPEC,
  status: { fields: { conditions: CONDITIONS, containerStatuses: { mergeKey: 'name' }, initContainerStatuses: { mergeKey: 'name' }, podIPs: { mergeKey: 'ip' } } },
});

export const DEPLOYMENT_SCHEMA = objectSchema({
  spec: { fields: { template: { fields: { metadata: OBJECT_META, spec: POD_SPEC } }, strategy: { retainKeys: true } } },
  status: { fields: { conditions: CONDITIONS } },
});

export const NAMESPACE_SCHEMA = objectSchema({ status: { fields: { conditions: CONDITIONS } } });

export const CRD_SCHEMA = objectSchema({ status: { fields: { conditions: CONDITIONS } } });
