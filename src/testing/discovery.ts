/** Discovery documents: just enough for kubectl and client libraries to find pods and selfsubjectreviews. */

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

export function coreResources(): Record<string, unknown> {
  return {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['get', 'list'], shortNames: ['ns'] },
      {
        name: 'pods',
        singularName: 'pod',
        namespaced: true,
        kind: 'Pod',
        verbs: ['delete', 'get', 'list', 'watch'],
        shortNames: ['po'],
        categories: ['all'],
      },
      { name: 'pods/attach', singularName: '', namespaced: true, kind: 'PodAttachOptions', verbs: ['create', 'get'] },
      { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] },
    ],
  };
}

const AUTHENTICATION_GROUP = {
  name: 'authentication.k8s.io',
  versions: [{ groupVersion: 'authentication.k8s.io/v1', version: 'v1' }],
  preferredVersion: { groupVersion: 'authentication.k8s.io/v1', version: 'v1' },
};

export function groupList(): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [AUTHENTICATION_GROUP] };
}

export function authenticationGroup(): Record<string, unknown> {
  return { kind: 'APIGroup', apiVersion: 'v1', ...AUTHENTICATION_GROUP };
}

export function authenticationResources(): Record<string, unknown> {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'authentication.k8s.io/v1',
    resources: [{ name: 'selfsubjectreviews', singularName: 'selfsubjectreview', namespaced: false, kind: 'SelfSubjectReview', verbs: ['create'] }],
  };
}
