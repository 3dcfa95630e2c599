/** Discovery documents (legacy, not aggregated): what kubectl and client libraries read to find the fake's kinds. */
import { apiVersionOf, type ResourceType } from './store/resource-type.ts';
import type { TypeRegistry } from './store/resources.ts';

const KUBERNETES_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-fake' } as const;

export function versionInfo(): Record<string, unknown> {
  return {
    ...KUBERNETES_VERSION,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.23.4',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export function coreVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

/** The pod subresources served beside the stored kinds. */
const POD_SUBRESOURCES = [
  { name: 'pods/attach', singularName: '', namespaced: true, kind: 'PodAttachOptions', verbs: ['create', 'get'] },
  { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] },
  { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] },
];

/** The review kinds (create only, never stored), by group version. */
const REVIEWS: Record<string, { name: string; kind: string }[]> = {
  'authentication.k8s.io/v1': [{ name: 'selfsubjectreviews', kind: 'SelfSubjectReview' }],
  'authorization.k8s.io/v1': [
    { name: 'selfsubjectaccessreviews', kind: 'SelfSubjectAccessReview' },
    { name: 'selfsubjectrulesreviews', kind: 'SelfSubjectRulesReview' },
    { name: 'subjectaccessreviews', kind: 'SubjectAccessReview' },
  ],
};

const WRITE_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function resourceEntries(type: ResourceType): Record<string, unknown>[] {
  const entry = {
    name: type.resource,
    singularName: type.singular,
    namespaced: type.namespaced,
    kind: type.kind,
    verbs: type.resource === 'namespaces' && type.group === '' ? WRITE_VERBS.filter((verb) => verb !== 'deletecollection') : WRITE_VERBS,
    ...(type.shortNames.length > 0 ? { shortNames: type.shortNames } : {}),
    ...(type.categories.length > 0 ? { categories: type.categories } : {}),
  };
  const status = { name: `${type.resource}/status`, singularName: '', namespaced: type.namespaced, kind: type.kind, verbs: ['get', 'patch', 'update'] };
  return [entry, ...(type.statusSubresource ? [status] : [])];
}

function resourceList(groupVersion: string, resources: Record<string, unknown>[]): Record<string, unknown> {
  const sorted = resources.sort((a, b) => String(a.name).localeCompare(String(b.name)));
  // kube-apiserver's /api/v1 carries no apiVersion; the groups' lists do.
  return groupVersion === 'v1' ? { kind: 'APIResourceList', groupVersion, resources: sorted } : { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources: sorted };
}

export function coreResources(types: TypeRegistry): Record<string, unknown> {
  const stored = types.all().filter((type) => type.group === '').flatMap(resourceEntries);
  return resourceList('v1', [...stored, ...POD_SUBRESOURCES]);
}

interface GroupDescription {
  name: string;
  versions: { groupVersion: string; version: string }[];
  preferredVersion: { groupVersion: string; version: string };
}

function groups(types: TypeRegistry): GroupDescription[] {
  const all = new Map<string, string[]>();
  for (const group of types.groups()) all.set(group.name, [...group.versions]);
  for (const groupVersion of Object.keys(REVIEWS)) {
    const [name = '', version = ''] = groupVersion.split('/');
    all.set(name, [...new Set([...(all.get(name) ?? []), version])]);
  }
  return [...all]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, versions]) => {
      const described = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
      return { name, versions: described, preferredVersion: described[0] ?? { groupVersion: '', version: '' } };
    });
}

export function groupList(types: TypeRegistry): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups(types) };
}

/** `/apis/<group>`, or `undefined` for a group the fake does not serve. */
export function apiGroup(types: TypeRegistry, name: string): Record<string, unknown> | undefined {
  const group = groups(types).find((candidate) => candidate.name === name);
  return group && { kind: 'APIGroup', apiVersion: 'v1', ...group };
}

/** `/apis/<group>/<version>`, or `undefined` when not served. */
export function groupResources(types: TypeRegistry, group: string, version: string): Record<string, unknown> | undefined {
  const groupVersion = `${group}/${version}`;
  const stored = types.all().filter((type) => apiVersionOf(type) === groupVersion);
  const reviews = (REVIEWS[groupVersion] ?? []).map((review) => ({ name: review.name, singularName: review.name.replace(/s$/, ''), namespaced: false, kind: review.kind, verbs: ['create'] }));
  if (stored.length === 0 && reviews.length === 0) return undefined;
  return resourceList(groupVersion, [...stored.flatMap(resourceEntries), ...reviews]);
}
