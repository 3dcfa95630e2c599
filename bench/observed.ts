/**
 * What "observability on" means in the benchmarks: prometheusMetrics' hooks, an audit sink that
 * turns every event into its JSON line (what a sink writing JSON lines does first), and a policy
 * of three deny and three allow rules, as a shared dashboard would configure them.
 */
import type { AuditEvent, ClusterProxyOptions, Policy } from 'kube-cluster-proxy';
import { prometheusMetrics } from 'kube-cluster-proxy/metrics';

/** Characters of audit JSON lines produced, so that the work cannot be optimised away. */
export let auditedCharacters = 0;

/** `parts`: which of the three are on (all by default), to tell their costs apart. */
export function observed(parts: readonly string[] = ['metrics', 'audit', 'policy']): Partial<ClusterProxyOptions> {
  const on = [
    ...(parts.includes('metrics') ? [prometheusMetrics().hooks] : []),
    ...(parts.includes('audit') ? [{ audit: (event: AuditEvent) => void (auditedCharacters += JSON.stringify(event).length + 1) }] : []),
  ];
  return {
    on,
    ...(parts.includes('policy') ? { policy: POLICY } : {}),
  };
}

const POLICY: Policy = {
  deny: [
    { resources: ['pods/exec', 'pods/attach', 'pods/portforward'], namespaces: ['prod', 'kube-system'], reason: 'no shells in prod' },
    { apiGroups: ['rbac.authorization.k8s.io'], verbs: ['create', 'update', 'patch', 'delete'] },
    { resources: ['secrets'], groups: ['contractors'] },
  ],
  allow: [{ verbs: ['get', 'list', 'watch'] }, { groups: ['oncall'], resources: ['*/scale', 'pods/exec'] }, { nonResourceURLs: ['/version', '/openapi/*'] }],
};
