import type { UserInfo } from './authentication.ts';
import { qualifiedResource, StatusError } from './status.ts';

/**
 * One RBAC `PolicyRule`, as in a Role or ClusterRole: resource rules name `verbs`, `apiGroups`
 * (`''` is the core group) and `resources` (`pods`, `pods/log`, `*`), optionally `resourceNames`;
 * non-resource rules name `verbs` and `nonResourceURLs` (`/healthz`, `/metrics/*`).
 */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** What a request asks to do, as a SubjectAccessReview's `resourceAttributes` or `nonResourceAttributes`. */
export type RequestAttributes =
  | {
      readonly resourceRequest: true;
      readonly verb: string;
      readonly group: string;
      readonly resource: string;
      readonly subresource: string;
      readonly namespace: string;
      readonly name: string;
    }
  | { readonly resourceRequest: false; readonly verb: string; readonly path: string };

/** What every authenticated user may do in any cluster (system:basic-user, system:discovery, system:public-info-viewer). */
const ALWAYS_ALLOWED: readonly PolicyRule[] = [
  { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] },
  { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
  { verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/openapi', '/openapi/*', '/version', '/version/', '/healthz', '/livez', '/readyz'] },
];

const matches = (list: readonly string[] | undefined, value: string) => (list ?? []).some((entry) => entry === '*' || entry === value);

function ruleAllows(rule: PolicyRule, attributes: RequestAttributes): boolean {
  if (!matches(rule.verbs, attributes.verb)) return false;
  if (!attributes.resourceRequest) {
    return (rule.nonResourceURLs ?? []).some((url) => url === '*' || url === attributes.path || (url.endsWith('*') && attributes.path.startsWith(url.slice(0, -1))));
  }
  if (!matches(rule.apiGroups, attributes.group)) return false;
  const combined = attributes.subresource === '' ? attributes.resource : `${attributes.resource}/${attributes.subresource}`;
  const resourceMatches = (rule.resources ?? []).some(
    (entry) => entry === '*' || entry === combined || (attributes.subresource !== '' && entry === `*/${attributes.subresource}`),
  );
  if (!resourceMatches) return false;
  return !rule.resourceNames || rule.resourceNames.length === 0 || (attributes.name !== '' && rule.resourceNames.includes(attributes.name));
}

function validateRule(rule: unknown, index: number): asserts rule is PolicyRule {
  const where = `setRules(): rule ${index}`;
  const stringList = (value: unknown) => value === undefined || (Array.isArray(value) && value.every((item) => typeof item === 'string'));
  if (typeof rule !== 'object' || rule === null) throw new TypeError(`${where} must be a PolicyRule object`);
  const r = rule as Record<string, unknown>;
  if (!Array.isArray(r.verbs) || r.verbs.length === 0 || !stringList(r.verbs)) throw new TypeError(`${where}: verbs must be a non-empty array of strings`);
  for (const field of ['apiGroups', 'resources', 'resourceNames', 'nonResourceURLs']) {
    if (!stringList(r[field])) throw new TypeError(`${where}: ${field} must be an array of strings`);
  }
  const isResourceRule = r.resources !== undefined || r.apiGroups !== undefined;
  if (isResourceRule === (r.nonResourceURLs !== undefined)) throw new TypeError(`${where} needs either apiGroups and resources, or nonResourceURLs`);
}

/**
 * The fake's authorizer: users the test gave rules to may do what the rules allow (plus what RBAC
 * lets every authenticated user do, and everything for `system:masters`); other users may do anything.
 */
export class Authorizer {
  readonly #rules = new Map<string, readonly PolicyRule[]>();

  setRules(user: string, rules: readonly PolicyRule[] | null): void {
    if (typeof user !== 'string' || user === '') throw new TypeError('setRules(): user must be a non-empty user name');
    if (rules === null) {
      this.#rules.delete(user);
      return;
    }
    if (!Array.isArray(rules)) throw new TypeError('setRules(): rules must be an array of PolicyRule objects, or null to allow everything again');
    rules.forEach(validateRule);
    this.#rules.set(user, structuredClone(rules));
  }

  /** The rules that apply to a user, `undefined` when the user may do anything. */
  rulesFor(user: Pick<UserInfo, 'username' | 'groups'>): readonly PolicyRule[] | undefined {
    if (user.groups.includes('system:masters')) return undefined;
    const rules = this.#rules.get(user.username);
    return rules && [...ALWAYS_ALLOWED, ...rules];
  }

  allows(user: Pick<UserInfo, 'username' | 'groups'>, attributes: RequestAttributes): boolean {
    const rules = this.rulesFor(user);
    return rules === undefined || rules.some((rule) => ruleAllows(rule, attributes));
  }

  /** Throws kube-apiserver's 403 Status unless the user may make the request. */
  authorize(user: UserInfo, attributes: RequestAttributes): void {
    if (!this.allows(user, attributes)) throw forbidden(user.username, attributes);
  }
}

/** kube-apiserver's 403, e.g. `pods "web" is forbidden: User "alice" cannot delete resource "pods" in API group "" in the namespace "default"`. */
export function forbidden(username: string, attributes: RequestAttributes): StatusError {
  if (!attributes.resourceRequest) {
    return new StatusError('Forbidden', `forbidden: User "${username}" cannot ${attributes.verb} path "${attributes.path}"`, {});
  }
  const { verb, group, resource, subresource, namespace, name } = attributes;
  const combined = subresource === '' ? resource : `${resource}/${subresource}`;
  const subject = name === '' ? qualifiedResource(resource, group) : `${qualifiedResource(resource, group)} "${name}"`;
  const scope = namespace === '' ? 'at the cluster scope' : `in the namespace "${namespace}"`;
  return new StatusError('Forbidden', `${subject} is forbidden: User "${username}" cannot ${verb} resource "${combined}" in API group "${group}" ${scope}`, {
    ...(name === '' ? {} : { name }),
    ...(group === '' ? {} : { group }),
    kind: resource,
  });
}
