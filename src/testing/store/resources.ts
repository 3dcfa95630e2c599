import { BUILTIN_TYPES } from './builtin-types.ts';
import { customResourceTypes } from './crd-rules.ts';
import { isObject, metadataOf, type KubeObject } from './objects.ts';
import { POD_TYPE } from './pod-type.ts';
import { apiVersionOf, type ResourceType } from './resource-type.ts';

/** An API group as discovery lists it. */
export interface ApiGroupVersions {
  readonly name: string;
  readonly versions: readonly string[];
  readonly preferredVersion: string;
}

/** The kinds a fake cluster serves: the built-in ones and those of the CRDs created so far. */
export class TypeRegistry {
  readonly #builtins: readonly ResourceType[] = [POD_TYPE, ...BUILTIN_TYPES];
  /** Custom resource types by CRD name; the storage version first. */
  readonly #custom = new Map<string, ResourceType[]>();

  all(): ResourceType[] {
    return [...this.#builtins, ...[...this.#custom.values()].flat()];
  }

  find(group: string, version: string, resource: string): ResourceType | undefined {
    return this.all().find((type) => type.group === group && type.version === version && type.resource === resource);
  }

  /** The type of an `apiVersion` and `kind`, as in a manifest. */
  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    return this.all().find((type) => apiVersionOf(type) === apiVersion && type.kind === kind);
  }

  /** The version objects of a group resource are stored in (a CRD's storage version). */
  storageType(group: string, resource: string): ResourceType | undefined {
    return this.all().find((type) => type.group === group && type.resource === resource);
  }

  /** Registers (or updates) the custom resources a CRD defines. */
  defineCrd(crd: KubeObject): void {
    const spec = isObject(crd.spec) ? crd.spec : {};
    const versions = Array.isArray(spec.versions) ? spec.versions.filter(isObject) : [];
    const storage = versions.find((version) => version.storage === true)?.name;
    const types = customResourceTypes(crd).sort((a, b) => Number(b.version === storage) - Number(a.version === storage));
    this.#custom.set(metadataOf(crd).name ?? '', types);
  }

  removeCrd(name: string): void {
    this.#custom.delete(name);
  }

  /** The API groups other than the core group, each with its versions. */
  groups(): ApiGroupVersions[] {
    const groups = new Map<string, string[]>();
    for (const type of this.all()) {
      if (type.group === '') continue;
      const versions = groups.get(type.group) ?? [];
      if (!versions.includes(type.version)) versions.push(type.version);
      groups.set(type.group, versions);
    }
    return [...groups].map(([name, versions]) => ({ name, versions, preferredVersion: versions[0] ?? '' }));
  }
}

/** The object as served at a type's version (custom resources are stored in one version, served in all). */
export function presentAs(type: ResourceType, object: KubeObject): KubeObject {
  const apiVersion = apiVersionOf(type);
  return object.apiVersion === apiVersion ? object : { ...object, apiVersion };
}
