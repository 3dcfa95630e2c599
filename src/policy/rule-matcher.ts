import type { RequestInfo } from '../pipeline/request-info.ts';
import type { UserInfo } from '../pipeline/user.ts';
import type { PolicyRule } from './policy.ts';

/** `resources` compiled: `resource -> subresources` (`''` the resource itself, `'*'` any subresource), and `*`/sub. */
interface ResourceMatcher {
  readonly byResource: ReadonlyMap<string, ReadonlySet<string>>;
  /** Subresources of `'*'/<sub>` entries; `'*'` for `'*'/'*'`. */
  readonly ofAnyResource: ReadonlySet<string>;
}

interface UrlMatcher {
  readonly exact: ReadonlySet<string>;
  readonly prefixes: readonly string[];
}

/**
 * A validated rule in a form that matches without allocating. `undefined` matches anything: a
 * field left out, or a list holding `'*'`.
 */
export interface CompiledRule {
  /** Where the rule is in the options (`clusters[2].policy.deny[0]`), for messages. */
  readonly where: string;
  readonly reason: string | undefined;
  /** The rule names apiGroups, resources or namespaces: it never matches a non-resource request. */
  readonly resourceOnly: boolean;
  /** The rule names nonResourceURLs: it never matches a resource request. */
  readonly nonResourceOnly: boolean;
  readonly verbs: ReadonlySet<string> | undefined;
  readonly apiGroups: ReadonlySet<string> | undefined;
  readonly resources: ResourceMatcher | undefined;
  readonly namespaces: ReadonlySet<string> | undefined;
  readonly users: ReadonlySet<string> | undefined;
  readonly groups: ReadonlySet<string> | undefined;
  readonly urls: UrlMatcher | undefined;
}

function setOf(list: readonly string[] | undefined): ReadonlySet<string> | undefined {
  return list === undefined || list.includes('*') ? undefined : new Set(list);
}

function resourceMatcher(list: readonly string[] | undefined): ResourceMatcher | undefined {
  if (list === undefined || list.includes('*')) return undefined;
  const byResource = new Map<string, Set<string>>();
  const ofAnyResource = new Set<string>();
  for (const entry of list) {
    const slash = entry.indexOf('/');
    const resource = slash === -1 ? entry : entry.slice(0, slash);
    const subresource = slash === -1 ? '' : entry.slice(slash + 1);
    if (resource === '*') ofAnyResource.add(subresource);
    else byResource.set(resource, (byResource.get(resource) ?? new Set()).add(subresource));
  }
  return { byResource, ofAnyResource };
}

function urlMatcher(list: readonly string[] | undefined): UrlMatcher | undefined {
  if (list === undefined || list.includes('*')) return undefined;
  // RBAC's rule: a trailing `*` makes the rest a prefix.
  return {
    exact: new Set(list.filter((url) => !url.endsWith('*'))),
    prefixes: list.filter((url) => url.endsWith('*')).map((url) => url.replace(/\*+$/, '')),
  };
}

/** Compiles a rule that validation has accepted. */
export function compileRule(rule: PolicyRule, where: string): CompiledRule {
  return {
    where,
    reason: rule.reason,
    resourceOnly: rule.apiGroups !== undefined || rule.resources !== undefined || rule.namespaces !== undefined,
    nonResourceOnly: rule.nonResourceURLs !== undefined,
    verbs: setOf(rule.verbs),
    apiGroups: setOf(rule.apiGroups),
    resources: resourceMatcher(rule.resources),
    namespaces: setOf(rule.namespaces),
    users: setOf(rule.users),
    groups: setOf(rule.groups),
    urls: urlMatcher(rule.nonResourceURLs),
  };
}

function resourceMatches(matcher: ResourceMatcher, resource: string, subresource: string): boolean {
  const subs = matcher.byResource.get(resource);
  if (subs !== undefined && (subs.has(subresource) || (subresource !== '' && subs.has('*')))) return true;
  return subresource !== '' && (matcher.ofAnyResource.has(subresource) || matcher.ofAnyResource.has('*'));
}

function urlMatches(matcher: UrlMatcher, path: string): boolean {
  if (matcher.exact.has(path)) return true;
  for (const prefix of matcher.prefixes) if (path.startsWith(prefix)) return true;
  return false;
}

function groupsMatch(groups: ReadonlySet<string>, userGroups: readonly string[]): boolean {
  for (const group of userGroups) if (groups.has(group)) return true;
  return false;
}

/**
 * Whether `rule` matches. `stream` (exec, attach, port-forward: verb `get` over WebSocket,
 * `create` over SPDY) makes a rule written for one transport hold for the other: a deny rule
 * matches on `get` or `create`, an allow rule only on `create`, which kube-apiserver 1.30+ also
 * requires of a WebSocket exec.
 */
export function ruleMatches(rule: CompiledRule, request: RequestInfo, user: UserInfo, stream: boolean, deny: boolean): boolean {
  const { verbs } = rule;
  if (verbs !== undefined) {
    const verbOk = stream ? verbs.has('create') || (deny && verbs.has('get')) : verbs.has(request.verb);
    if (!verbOk) return false;
  }
  if (request.isResourceRequest) {
    if (rule.nonResourceOnly) return false;
    if (rule.namespaces !== undefined && !rule.namespaces.has(request.namespace)) return false;
    if (rule.resources !== undefined && !resourceMatches(rule.resources, request.resource, request.subresource)) return false;
    if (rule.apiGroups !== undefined && !rule.apiGroups.has(request.apiGroup)) return false;
  } else {
    if (rule.resourceOnly) return false;
    if (rule.urls !== undefined && !urlMatches(rule.urls, request.path)) return false;
  }
  if (rule.users !== undefined && (user.name === undefined || !rule.users.has(user.name))) return false;
  if (rule.groups !== undefined && !groupsMatch(rule.groups, user.groups)) return false;
  return true;
}
