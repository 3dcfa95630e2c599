import type { FieldError } from '../status.ts';
import { humanAge } from '../tables.ts';
import { isObject, metadataOf, stringOr, type KubeObject } from './objects.ts';
import { AGE_COLUMN, column, NAME_COLUMN, type ResourceType } from './resource-type.ts';
import { CRD_SCHEMA, DEPLOYMENT_SCHEMA, NAMESPACE_SCHEMA, objectSchema } from './schema.ts';
import { defaultPodSpec, validatePodSpec } from './pod-type.ts';
import { validateCrd, crdStatus } from './crd-rules.ts';
import { invalidValue, required, validateStringMap } from './validation.ts';

const age = (object: KubeObject) => humanAge(new Date(metadataOf(object).creationTimestamp ?? 0));
const mapSize = (value: unknown) => (isObject(value) ? Object.keys(value).length : 0);
const field = (object: KubeObject, ...path: string[]): unknown => path.reduce<unknown>((value, key) => (isObject(value) ? value[key] : undefined), object);

type TypeDefaults = Pick<
  ResourceType,
  'statusSubresource' | 'generation' | 'unconditionalUpdate' | 'returnDeletedObject' | 'strategicMergePatch' | 'itemsCarryType' | 'selectableFields' | 'shortNames' | 'categories' | 'schema'
>;

const DEFAULTS: TypeDefaults = {
  statusSubresource: false,
  generation: false,
  unconditionalUpdate: true,
  returnDeletedObject: false,
  strategicMergePatch: true,
  itemsCarryType: false,
  selectableFields: {},
  shortNames: [],
  categories: [],
  schema: objectSchema(),
};

export const NAMESPACE_TYPE: ResourceType = {
  ...DEFAULTS,
  group: '',
  version: 'v1',
  resource: 'namespaces',
  kind: 'Namespace',
  listKind: 'NamespaceList',
  singular: 'namespace',
  namespaced: false,
  shortNames: ['ns'],
  statusSubresource: true,
  returnDeletedObject: true,
  schema: NAMESPACE_SCHEMA,
  selectableFields: { 'status.phase': (ns) => stringOr(field(ns, 'status', 'phase')) },
  columns: [NAME_COLUMN, column('Status', 'The status of the namespace'), AGE_COLUMN],
  cells: (ns) => [metadataOf(ns).name, field(ns, 'status', 'phase') ?? '', age(ns)],
  prepare(ns, previous) {
    const name = stringOr(ns.metadata.name);
    ns.metadata.labels = { ...(isObject(ns.metadata.labels) ? ns.metadata.labels : {}), 'kubernetes.io/metadata.name': name };
    if (!previous) {
      ns.spec = { finalizers: ['kubernetes'], ...(isObject(ns.spec) ? ns.spec : {}) };
      ns.status = { phase: 'Active' };
    }
    return [];
  },
};

const CONFIGMAP_TYPE: ResourceType = {
  ...DEFAULTS,
  group: '',
  version: 'v1',
  resource: 'configmaps',
  kind: 'ConfigMap',
  listKind: 'ConfigMapList',
  singular: 'configmap',
  namespaced: true,
  shortNames: ['cm'],
  columns: [NAME_COLUMN, column('Data', 'Data contains the configuration data.', { type: 'integer' }), AGE_COLUMN],
  cells: (cm) => [metadataOf(cm).name, mapSize(cm.data) + mapSize(cm.binaryData), age(cm)],
  prepare: (cm) => validateStringMap('data', cm.data),
};

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const SECRET_TYPE: ResourceType = {
  ...DEFAULTS,
  group: '',
  version: 'v1',
  resource: 'secrets',
  kind: 'Secret',
  listKind: 'SecretList',
  singular: 'secret',
  namespaced: true,
  selectableFields: { type: (secret) => stringOr(secret.type) },
  columns: [
    NAME_COLUMN,
    column('Type', 'The type of the secret'),
    column('Data', 'The number of entries in the secret', { type: 'integer' }),
    AGE_COLUMN,
  ],
  cells: (secret) => [metadataOf(secret).name, secret.type ?? '', mapSize(secret.data), age(secret)],
  prepare(secret) {
    const errors = validateStringMap('stringData', secret.stringData);
    if (secret.data !== undefined && secret.data !== null) {
      if (!isObject(secret.data)) errors.push(invalidValue('data', secret.data, 'must be a map of base64-encoded strings'));
      else {
        for (const [key, value] of Object.entries(secret.data)) {
          if (typeof value !== 'string' || !BASE64.test(value)) errors.push(invalidValue(`data[${key}]`, '<secret contents redacted>', 'must be base64-encoded'));
        }
      }
    }
    if (errors.length > 0) return errors;
    // As kube-apiserver: stringData is write-only, merged into data.
    if (isObject(secret.stringData)) {
      const data = isObject(secret.data) ? secret.data : {};
      for (const [key, value] of Object.entries(secret.stringData)) data[key] = Buffer.from(String(value), 'utf8').toString('base64');
      secret.data = data;
      delete secret.stringData;
    }
    secret.type ??= 'Opaque';
    return [];
  },
};

const DEPLOYMENT_TYPE: ResourceType = {
  ...DEFAULTS,
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  listKind: 'DeploymentList',
  singular: 'deployment',
  namespaced: true,
  shortNames: ['deploy'],
  categories: ['all'],
  statusSubresource: true,
  generation: true,
  schema: DEPLOYMENT_SCHEMA,
  columns: [
    NAME_COLUMN,
    column('Ready', 'Number of the pod with ready state'),
    column('Up-to-date', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.', { type: 'integer' }),
    column('Available', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.', { type: 'integer' }),
    AGE_COLUMN,
    column('Containers', 'Names of each container in the template.', { priority: 1 }),
    column('Images', 'Images referenced by each container in the template.', { priority: 1 }),
    column('Selector', 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.', { priority: 1 }),
  ],
  cells(deployment) {
    const containers = field(deployment, 'spec', 'template', 'spec', 'containers');
    const list = Array.isArray(containers) ? containers.filter(isObject) : [];
    const matchLabels = field(deployment, 'spec', 'selector', 'matchLabels');
    return [
      metadataOf(deployment).name,
      `${Number(field(deployment, 'status', 'readyReplicas') ?? 0)}/${Number(field(deployment, 'spec', 'replicas') ?? 0)}`,
      Number(field(deployment, 'status', 'updatedReplicas') ?? 0),
      Number(field(deployment, 'status', 'availableReplicas') ?? 0),
      age(deployment),
      list.map((c) => c.name).join(','),
      list.map((c) => c.image).join(','),
      isObject(matchLabels) ? Object.entries(matchLabels).map(([k, v]) => `${k}=${String(v)}`).join(',') : '',
    ];
  },
  prepare(deployment) {
    const spec = isObject(deployment.spec) ? deployment.spec : undefined;
    if (!spec) return [required('spec')];
    const errors: FieldError[] = [];
    const selector = isObject(spec.selector) ? spec.selector : undefined;
    const template = isObject(spec.template) ? spec.template : undefined;
    if (!selector) errors.push(required('spec.selector'));
    if (!template) errors.push(required('spec.template'));
    if (selector && template) {
      const matchLabels = isObject(selector.matchLabels) ? selector.matchLabels : {};
      const labels = isObject(template.metadata) && isObject(template.metadata.labels) ? template.metadata.labels : {};
      if (Object.keys(matchLabels).length === 0 && !Array.isArray(selector.matchExpressions)) {
        errors.push(invalidValue('spec.selector', selector, 'empty selector is invalid for deployment'));
      } else if (!Object.entries(matchLabels).every(([key, value]) => labels[key] === value)) {
        errors.push(invalidValue('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
      }
    }
    if (!template) return errors;
    errors.push(...validatePodSpec(template.spec, 'spec.template.spec'));
    if (errors.length > 0) return errors;
    spec.replicas ??= 1;
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } };
    defaultPodSpec(template.spec as Record<string, unknown>);
    deployment.status ??= {};
    return [];
  },
};

export const CRD_TYPE: ResourceType = {
  ...DEFAULTS,
  group: 'apiextensions.k8s.io',
  version: 'v1',
  resource: 'customresourcedefinitions',
  kind: 'CustomResourceDefinition',
  listKind: 'CustomResourceDefinitionList',
  singular: 'customresourcedefinition',
  namespaced: false,
  shortNames: ['crd', 'crds'],
  categories: ['api-extensions'],
  statusSubresource: true,
  generation: true,
  schema: CRD_SCHEMA,
  columns: [NAME_COLUMN, column('Created At', 'CreationTimestamp is a timestamp representing the server time when this object was created.', { format: 'date' })],
  cells: (crd) => [metadataOf(crd).name, metadataOf(crd).creationTimestamp ?? ''],
  prepare(crd, previous) {
    const errors = validateCrd(crd);
    if (errors.length > 0) return errors;
    const status = crdStatus(crd);
    // The conditions keep their transition times; the accepted names follow the spec.
    const conditions = previous && isObject(previous.status) ? previous.status.conditions : undefined;
    crd.status = conditions === undefined ? status : { ...status, conditions };
    return [];
  },
};

/** The kinds every fake cluster serves. */
export const BUILTIN_TYPES: readonly ResourceType[] = [NAMESPACE_TYPE, CONFIGMAP_TYPE, SECRET_TYPE, DEPLOYMENT_TYPE, CRD_TYPE];
