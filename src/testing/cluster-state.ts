import { Authorizer, type PolicyRule } from './authorization.ts';
import { PodStore } from './pod-store.ts';
import type { StreamTracker } from './streams.ts';
import { CRD_TYPE } from './store/builtin-types.ts';
import { ObjectStore } from './store/object-store.ts';
import { isObject, metadataOf } from './store/objects.ts';
import { presentAs, TypeRegistry } from './store/resources.ts';
import type { ResourceContext } from './store/rest.ts';
import { apiVersionOf, type ResourceType } from './store/resource-type.ts';
import { createObject, deleteObject, type WriteContext } from './store/writes.ts';

/** A Kubernetes object as JSON, e.g. `{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { a: '1' } }`. */
export type FakeObject = Readonly<Record<string, unknown>>;

/** The fake's object store, as {@link FakeCluster} exposes it to tests. */
export interface FakeClusterObjects {
  /**
   * Creates an object as a POST would (defaults, validation, uid, resourceVersion; ADDED to open
   * watches) and returns it as stored. Namespaced kinds default to namespace `default`; a
   * namespace that does not exist is created and lasts as long as an object uses it. Throws the
   * API's `StatusError` (AlreadyExists, Invalid, ...) otherwise. Kinds: pods, configmaps,
   * secrets, namespaces, deployments (`apps/v1`), CustomResourceDefinitions and custom resources.
   */
  addObject(object: FakeObject): FakeObject;
  /** The stored object, or `undefined`. `namespace` defaults to `default` for namespaced kinds. */
  getObject(apiVersion: string, kind: string, name: string, namespace?: string): FakeObject | undefined;
  /** Stored objects of a kind, in one namespace or (by default) all. */
  listObjects(apiVersion: string, kind: string, namespace?: string): FakeObject[];
  /** Deletes an object as a DELETE would (DELETED to open watches; finalizers are honoured). */
  deleteObject(apiVersion: string, kind: string, name: string, namespace?: string): void;
  /**
   * Registers a CustomResourceDefinition (an `apiextensions.k8s.io/v1` object, as one would apply
   * it): its custom resources are then served, listed in discovery and OpenAPI. Creating a CRD
   * through the API does the same. The schema's list types guide merges; it is not validated.
   */
  addCrd(crd: FakeObject): FakeObject;
  /**
   * Limits what `user` may do to RBAC `rules` (in a ClusterRole's shape), checked on every request
   * and answered to `kubectl auth can-i` (SelfSubjectAccessReview), SubjectAccessReview and
   * SelfSubjectRulesReview; discovery, health and the self-reviews stay allowed, as RBAC's default
   * roles do. `null` lifts the limit. Users without rules, and `system:masters`, may do anything.
   */
  setRules(user: string, rules: PolicyRule[] | null): void;
  /** The resourceVersion of the latest write (decimal string), as a list would report it. */
  resourceVersion(): string;
  /**
   * Forgets the kept change history, as etcd compaction does: a watch or paginated list from any
   * resourceVersion older than now then gets 410 Expired (watches: an ERROR event).
   */
  compact(): void;
  /** Ends every open watch (a clean end of the stream, as when an apiserver restarts), so clients resume. */
  dropWatches(): void;
}

/** The stores of one fake cluster and the test-facing operations on them. */
export function createClusterState(options: { nodeName: string; eventWindow: number; streams: StreamTracker }): {
  pods: PodStore;
  resources: ResourceContext;
  authorizer: Authorizer;
  objects: ObjectStore;
  api: FakeClusterObjects;
} {
  const objects = new ObjectStore(options.eventWindow);
  const types = new TypeRegistry();
  const context: WriteContext = { store: objects, types, nodeName: options.nodeName };
  const pods = new PodStore(context);
  pods.ensureNamespace('default', false);
  const authorizer = new Authorizer();
  const write = { manager: 'fake-cluster' };

  const typeOf = (apiVersion: string, kind: string): ResourceType => {
    const type = typeof apiVersion === 'string' && typeof kind === 'string' ? types.byKind(apiVersion, kind) : undefined;
    if (!type) throw new TypeError(`the fake cluster serves no kind ${JSON.stringify(kind)} in ${JSON.stringify(apiVersion)}; register a CRD with addCrd() first`);
    return type;
  };
  const namespaceOf = (type: ResourceType, namespace: string | undefined) => (type.namespaced ? (namespace ?? 'default') : '');

  const addObject = (object: FakeObject): FakeObject => {
    if (!isObject(object)) throw new TypeError('addObject(): the object must be a Kubernetes object with apiVersion, kind and metadata');
    const type = typeOf(String(object.apiVersion), String(object.kind));
    const namespace = namespaceOf(type, metadataOf(object).namespace);
    if (type.namespaced) pods.ensureNamespace(namespace, true);
    return createObject(context, type, namespace, object, write);
  };

  return {
    pods,
    objects,
    authorizer,
    resources: { ...context, streams: options.streams },
    api: {
      addObject,
      getObject: (apiVersion, kind, name, namespace) => {
        const type = typeOf(apiVersion, kind);
        const object = objects.get(type, namespaceOf(type, namespace), name);
        return object && presentAs(type, object);
      },
      listObjects: (apiVersion, kind, namespace) => {
        const type = typeOf(apiVersion, kind);
        return objects.list(type, type.namespaced ? namespace : undefined).map((object) => presentAs(type, object));
      },
      deleteObject: (apiVersion, kind, name, namespace) => {
        const type = typeOf(apiVersion, kind);
        deleteObject(context, type, namespaceOf(type, namespace), name, {});
      },
      addCrd: (crd) => addObject({ apiVersion: apiVersionOf(CRD_TYPE), kind: CRD_TYPE.kind, ...crd }),
      setRules: (user, rules) => authorizer.setRules(user, rules),
      resourceVersion: () => String(objects.resourceVersion),
      compact: () => objects.compact(),
      dropWatches: () => options.streams.closeKind('watch'),
    },
  };
}
