import type { RequestInfo } from '../pipeline/request-info.ts';

/**
 * Label values bounded by construction: whatever a client sends, each label takes one of a fixed
 * set of values (or one of the configured clusters), so that no path, name, user or token ever
 * becomes a time series.
 */

/** Resources worth their own series: the built-in kinds a dashboard shows. Anything else is `'other'`. */
const RESOURCES = new Set([
  'pods', 'services', 'endpoints', 'endpointslices', 'configmaps', 'secrets', 'serviceaccounts', 'namespaces', 'nodes', 'events',
  'persistentvolumes', 'persistentvolumeclaims', 'storageclasses', 'deployments', 'replicasets', 'statefulsets', 'daemonsets',
  'controllerrevisions', 'jobs', 'cronjobs', 'horizontalpodautoscalers', 'poddisruptionbudgets', 'ingresses', 'ingressclasses',
  'networkpolicies', 'roles', 'rolebindings', 'clusterroles', 'clusterrolebindings', 'customresourcedefinitions', 'leases',
  'limitranges', 'resourcequotas', 'priorityclasses', 'selfsubjectreviews', 'selfsubjectaccessreviews', 'selfsubjectrulesreviews',
  'subjectaccessreviews', 'tokenreviews', 'mutatingwebhookconfigurations', 'validatingwebhookconfigurations', 'apiservices',
]);

/** Subresources kept after their resource (`pods/exec`); others make the resource `'other'`. */
const SUBRESOURCES = new Set(['exec', 'attach', 'portforward', 'log', 'proxy', 'status', 'scale', 'eviction', 'ephemeralcontainers', 'binding', 'token']);

const VERBS = new Set(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'proxy', 'head', 'post', 'put', 'options']);

/** `'pods'`, `'pods/exec'`, `'nonresource'` for discovery and `/version`, `'unknown'` when the path was never read, else `'other'`. */
export function resourceLabel(request: RequestInfo | undefined): string {
  if (request === undefined) return 'unknown';
  if (!request.isResourceRequest) return 'nonresource';
  if (!RESOURCES.has(request.resource)) return 'other';
  if (request.subresource === '') return request.resource;
  return SUBRESOURCES.has(request.subresource) ? `${request.resource}/${request.subresource}` : 'other';
}

/** The Kubernetes verb (or lowercase method of a non-resource request); `'other'` for anything unusual. */
export function verbLabel(request: RequestInfo | undefined, method: string): string {
  const verb = request?.verb ?? method.toLowerCase();
  return VERBS.has(verb) ? verb : 'other';
}

/** A status code, `'other'` outside 100-599. */
export function codeLabel(code: number): string {
  return Number.isInteger(code) && code >= 100 && code <= 599 ? String(code) : 'other';
}

const CAUSES: Record<string, string> = {
  ECONNREFUSED: 'refused',
  ECONNRESET: 'reset',
  EPIPE: 'reset',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  ETIMEDOUT: 'unreachable',
};

/** Why the proxy could not talk to a cluster: `timeout`, `tls`, `refused`, `reset`, `dns`, `unreachable` or `other`. */
export function causeLabel(errorCode: string, cause: unknown, message: string): string {
  if (errorCode === 'ERR_UPSTREAM_TIMEOUT') return 'timeout';
  if (message.includes('TLS verification failed')) return 'tls';
  const code = (cause as { code?: unknown } | undefined)?.code;
  return (typeof code === 'string' && CAUSES[code]) || 'other';
}

/** How many cluster names the exporter learns at most: a resolver that accepts any name must not grow the series without end. */
export const MAX_LEARNED_CLUSTERS = 1000;

/**
 * Cluster label values: the names given in `clusters`, or, without them, the names of clusters the
 * proxy resolved (events only carry a cluster once it was found among the configured ones), the
 * first {@link MAX_LEARNED_CLUSTERS} of them. Anything else is `'unknown'`.
 */
export function createClusterLabels(clusters: readonly string[] | undefined) {
  const known = new Set(clusters);
  const fixed = clusters !== undefined;
  return {
    /** Remembers a name the proxy resolved to a configured cluster. */
    learn(name: string): void {
      if (!fixed && known.size < MAX_LEARNED_CLUSTERS) known.add(name);
    },
    label(name: string | undefined): string {
      return name !== undefined && known.has(name) ? name : 'unknown';
    },
  };
}
