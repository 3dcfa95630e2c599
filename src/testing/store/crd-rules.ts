import type { FieldError } from '../status.ts';
import { humanAge } from '../tables.ts';
import { isObject, metadataOf, type KubeObject } from './objects.ts';
import { AGE_COLUMN, column, NAME_COLUMN, type ResourceType, type TableColumn } from './resource-type.ts';
import { objectSchema, type FieldSchema } from './schema.ts';
import { DNS_LABEL_RULE, invalidValue, isDnsLabelName, isDnsSubdomain, required, unsupportedValue } from './validation.ts';

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);
const records = (value: unknown): Record<string, unknown>[] => (Array.isArray(value) ? value.filter(isObject) : []);

interface CrdNames {
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  readonly listKind: string;
  readonly shortNames: string[];
  readonly categories: string[];
}

function crdNames(crd: KubeObject): CrdNames {
  const spec = isObject(crd.spec) ? crd.spec : {};
  const names = isObject(spec.names) ? spec.names : {};
  const kind = text(names.kind);
  return {
    plural: text(names.plural),
    singular: text(names.singular) || kind.toLowerCase(),
    kind,
    listKind: text(names.listKind) || `${kind}List`,
    shortNames: strings(names.shortNames),
    categories: strings(names.categories),
  };
}

/** The checks kube-apiserver makes that a test's CRD is most likely to fail. */
export function validateCrd(crd: KubeObject): FieldError[] {
  const spec = isObject(crd.spec) ? crd.spec : undefined;
  if (!spec) return [required('spec')];
  const errors: FieldError[] = [];
  const group = text(spec.group);
  const names = crdNames(crd);
  if (group === '') errors.push(required('spec.group'));
  else if (!isDnsSubdomain(group) || !group.includes('.')) errors.push(invalidValue('spec.group', group, 'should be a domain with at least one dot'));
  if (names.plural === '') errors.push(required('spec.names.plural'));
  else if (!isDnsLabelName(names.plural)) errors.push(invalidValue('spec.names.plural', names.plural, DNS_LABEL_RULE));
  if (names.kind === '') errors.push(required('spec.names.kind'));
  const name = metadataOf(crd).name ?? '';
  if (names.plural !== '' && group !== '' && name !== `${names.plural}.${group}`) {
    errors.push(invalidValue('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  }
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') errors.push(unsupportedValue('spec.scope', spec.scope, ['Cluster', 'Namespaced']));
  const versions = records(spec.versions);
  if (versions.length === 0) errors.push(required('spec.versions', 'must have at least one version'));
  versions.forEach((version, index) => {
    if (!isDnsLabelName(version.name)) errors.push(invalidValue(`spec.versions[${index}].name`, version.name, DNS_LABEL_RULE));
  });
  if (versions.length > 0 && versions.filter((version) => version.storage === true).length !== 1) {
    errors.push(invalidValue('spec.versions', versions.map((version) => version.name), 'must have exactly one version marked as storage version'));
  }
  return errors;
}

/** A CRD's status once established: kube-apiserver accepts the names at once when nothing conflicts. */
export function crdStatus(crd: KubeObject): Record<string, unknown> {
  const names = crdNames(crd);
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const spec = isObject(crd.spec) ? crd.spec : {};
  const storage = records(spec.versions).find((version) => version.storage === true);
  return {
    conditions: [
      { type: 'NamesAccepted', status: 'True', lastTransitionTime: now, reason: 'NoConflicts', message: 'no conflicts found' },
      { type: 'Established', status: 'True', lastTransitionTime: now, reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
    ],
    acceptedNames: {
      plural: names.plural,
      singular: names.singular,
      ...(names.shortNames.length > 0 ? { shortNames: names.shortNames } : {}),
      kind: names.kind,
      listKind: names.listKind,
      ...(names.categories.length > 0 ? { categories: names.categories } : {}),
    },
    storedVersions: [text(storage?.name)],
  };
}

/** The merge rules a CRD's structural schema declares (`x-kubernetes-list-type`, `x-kubernetes-list-map-keys`). */
function schemaFromOpenApi(schema: unknown): FieldSchema | undefined {
  if (!isObject(schema)) return undefined;
  const properties = isObject(schema.properties) ? schema.properties : undefined;
  const fields = properties && Object.fromEntries(Object.entries(properties).flatMap(([key, value]) => {
    const child = schemaFromOpenApi(value);
    return child ? [[key, child]] : [];
  }));
  const listType = schema['x-kubernetes-list-type'];
  const keys = strings(schema['x-kubernetes-list-map-keys']);
  const result: FieldSchema = {
    ...(fields && Object.keys(fields).length > 0 ? { fields } : {}),
    ...(listType === 'map' && keys.length > 0 ? { mergeKey: keys[0], listKeys: keys } : {}),
    ...(listType === 'set' ? { set: true } : {}),
    ...(schemaFromOpenApi(schema.items) ? { items: schemaFromOpenApi(schema.items) } : {}),
    ...(schemaFromOpenApi(schema.additionalProperties) ? { values: schemaFromOpenApi(schema.additionalProperties) } : {}),
  };
  return Object.keys(result).length > 0 ? result : undefined;
}

/** `.spec.replicas`, `.status.conditions[0].type`: the simple JSONPath printer columns use. */
function readJsonPath(object: KubeObject, path: string): unknown {
  const steps = path.replace(/^\{?\.?/, '').replace(/\}$/, '').split(/\.|\[(\d+)\]/).filter((step) => step !== undefined && step !== '');
  return steps.reduce<unknown>((value, step) => {
    if (Array.isArray(value) && /^\d+$/.test(step)) return value[Number(step)];
    return isObject(value) ? value[step] : undefined;
  }, object);
}

function printerColumns(version: Record<string, unknown>): { columns: TableColumn[]; cells: (object: KubeObject) => unknown[] } {
  const defined = records(version.additionalPrinterColumns);
  if (defined.length === 0) {
    return { columns: [NAME_COLUMN, AGE_COLUMN], cells: (object) => [metadataOf(object).name, humanAge(new Date(metadataOf(object).creationTimestamp ?? 0))] };
  }
  return {
    columns: [NAME_COLUMN, ...defined.map((c) => column(text(c.name), text(c.description), { priority: Number(c.priority ?? 0), type: text(c.type) || 'string', format: text(c.format) }))],
    cells: (object) => [
      metadataOf(object).name,
      ...defined.map((c) => {
        const value = readJsonPath(object, text(c.jsonPath));
        if (c.type === 'date' && typeof value === 'string') return humanAge(new Date(value));
        return value ?? null;
      }),
    ],
  };
}

/** One served version of a CRD, as a resource type the fake serves (no schema validation or pruning). */
export function customResourceTypes(crd: KubeObject): ResourceType[] {
  const spec = isObject(crd.spec) ? crd.spec : {};
  const names = crdNames(crd);
  return records(spec.versions)
    .filter((version) => version.served !== false)
    .map((version) => {
      const schema = schemaFromOpenApi(isObject(version.schema) ? version.schema.openAPIV3Schema : undefined);
      const printing = printerColumns(version);
      return {
        group: text(spec.group),
        version: text(version.name),
        resource: names.plural,
        kind: names.kind,
        listKind: names.listKind,
        singular: names.singular,
        namespaced: spec.scope === 'Namespaced',
        shortNames: names.shortNames,
        categories: names.categories,
        statusSubresource: isObject(version.subresources) && isObject(version.subresources.status),
        generation: true,
        unconditionalUpdate: false,
        returnDeletedObject: false,
        strategicMergePatch: false,
        itemsCarryType: true,
        schema: objectSchema(schema?.fields ?? {}),
        selectableFields: {},
        columns: printing.columns,
        cells: printing.cells,
        prepare: () => [],
      };
    });
}
