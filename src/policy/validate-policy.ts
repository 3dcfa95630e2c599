import { InvalidOptionError } from '../errors.ts';
import { checkKnownOptions } from '../known-options.ts';
import type { Policy, PolicyAuthorize, PolicyRule } from './policy.ts';
import { compileRule, type CompiledRule } from './rule-matcher.ts';

/** One policy (the default, or a cluster's), compiled. */
export interface PolicyLayer {
  /** The option it came from (`clusters[2].policy`), for messages. */
  readonly where: string;
  readonly readOnly: boolean;
  readonly deny: readonly CompiledRule[];
  /** `undefined`: no allow rules, anything the rest allows goes. */
  readonly allow: readonly CompiledRule[] | undefined;
  readonly authorize: PolicyAuthorize | undefined;
}

/** A policy ready for `decide`: the layers that must all allow a request, in order. */
export interface CompiledPolicy {
  readonly layers: readonly PolicyLayer[];
}

const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'proxy', 'head', 'post', 'put', 'options'];

/** Subresources people write as verbs, and how to name them instead. */
const SUBRESOURCE_VERBS: Record<string, string> = {
  exec: 'pods/exec',
  attach: 'pods/attach',
  portforward: 'pods/portforward',
  'port-forward': 'pods/portforward',
  log: 'pods/log',
  logs: 'pods/log',
  scale: 'deployments/scale',
};

/** A DNS label: namespaces, and the resource and subresource names of URLs. */
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A DNS subdomain: API group names. */
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VERSION = /^v\d+((alpha|beta)\d+)?$/;

type Check = (value: string) => string | undefined;

function checkVerb(verb: string): string | undefined {
  if (verb === '*' || VERBS.includes(verb)) return undefined;
  const sub = SUBRESOURCE_VERBS[verb.toLowerCase()];
  if (sub) return `"${verb}" is a subresource, not a verb: name it in resources, as '${sub}'`;
  if (VERBS.includes(verb.toLowerCase())) return `verbs are lowercase: '${verb.toLowerCase()}'`;
  return `"${verb}" is not a verb the proxy can see; use ${VERBS.join(', ')} or '*'`;
}

function checkApiGroup(group: string): string | undefined {
  if (group === '' || group === '*') return undefined;
  if (group === 'core') return "the core group (pods, services...) is '' as in RBAC, not 'core'";
  if (group.includes('/') || VERSION.test(group)) {
    return `"${group}" has a version: name the group alone ('apps', not 'apps/v1'; '' for the core group)`;
  }
  return SUBDOMAIN.test(group) ? undefined : `"${group}" is not an API group name (lowercase, as 'apps' or 'cert-manager.io')`;
}

function checkResourceName(name: string, entry: string): string | undefined {
  if (LABEL.test(name)) return undefined;
  if (name.includes('.')) {
    const [resource, ...group] = name.split('.');
    return `"${entry}" names the group too: use apiGroups: ['${group.join('.')}'] and resources: ['${resource}']`;
  }
  if (name.toLowerCase() !== name) return `"${entry}": resources are lowercase plural names as in the URL ('pods', not 'Pod')`;
  return `"${entry}" is not a resource name`;
}

function checkResource(entry: string): string | undefined {
  if (entry === '*') return undefined;
  const parts = entry.split('/');
  if (parts.length > 2) return `"${entry}": a resource has one subresource at most ('pods/exec')`;
  const [resource, subresource] = parts as [string, string | undefined];
  if (resource !== '*') {
    const problem = checkResourceName(resource, entry);
    if (problem) return problem;
  }
  if (subresource !== undefined && subresource !== '*') return checkResourceName(subresource, entry);
  return undefined;
}

function checkNamespace(namespace: string): string | undefined {
  if (namespace === '' || namespace === '*' || (namespace.length <= 63 && LABEL.test(namespace))) return undefined;
  return `"${namespace}" is not a namespace name (a lowercase DNS label; '' for cluster-scoped requests)`;
}

function checkName(name: string): string | undefined {
  return name === '' ? "must not be empty ('*' matches everyone)" : undefined;
}

function checkUrl(url: string): string | undefined {
  if (url === '*') return undefined;
  if (!url.startsWith('/')) return `"${url}" must be a path from '/' ('/healthz')`;
  const star = url.indexOf('*');
  if (star !== -1 && star !== url.length - 1) return `"${url}": '*' may only end a path ('/openapi/*')`;
  return undefined;
}

const LIST_FIELDS: readonly [keyof PolicyRule, Check][] = [
  ['verbs', checkVerb],
  ['apiGroups', checkApiGroup],
  ['resources', checkResource],
  ['namespaces', checkNamespace],
  ['users', checkName],
  ['groups', checkName],
  ['nonResourceURLs', checkUrl],
];

function validateRule(rule: unknown, where: string, deny: boolean): CompiledRule {
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
    throw new InvalidOptionError(`${where} must be a rule object such as { verbs: ['get'], resources: ['pods'] }`);
  }
  const r = rule as Record<string, unknown>;
  checkKnownOptions(rule as PolicyRule, [...LIST_FIELDS.map(([key]) => key), 'reason'], where);
  for (const [key, check] of LIST_FIELDS) {
    const list = r[key];
    if (list === undefined) continue;
    if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) {
      const got = typeof list === 'string' ? `the string ${JSON.stringify(list)}` : Array.isArray(list) ? 'an array with a non-string' : typeof list;
      throw new InvalidOptionError(`${where}.${key} must be an array of strings (['a', 'b']); got ${got}`);
    }
    if (list.length === 0) throw new InvalidOptionError(`${where}.${key} is empty, which would match nothing; leave it out to match anything`);
    for (const [i, value] of list.entries()) {
      const problem = check(value);
      if (problem) throw new InvalidOptionError(`${where}.${key}[${i}]: ${problem}`);
    }
  }
  if (r.nonResourceURLs !== undefined && (r.apiGroups !== undefined || r.resources !== undefined || r.namespaces !== undefined)) {
    throw new InvalidOptionError(
      `${where} mixes nonResourceURLs with apiGroups/resources/namespaces and could match nothing; make them two rules`,
    );
  }
  if (r.reason !== undefined) {
    if (!deny) throw new InvalidOptionError(`${where}.reason: only deny rules have a reason (the message of the denial)`);
    if (typeof r.reason !== 'string' || r.reason.trim() === '') throw new InvalidOptionError(`${where}.reason must be a non-empty string`);
  }
  return compileRule(rule, where);
}

function validateRules(rules: unknown, where: string, deny: boolean): CompiledRule[] {
  if (!Array.isArray(rules)) throw new InvalidOptionError(`${where} must be an array of rules`);
  return rules.map((rule, i) => validateRule(rule, `${where}[${i}]`, deny));
}

/**
 * Checks a `Policy` once, at construction, and compiles it for `decide`.
 * @param optionName Where the policy is in the options (`policy`, `clusters[2].policy`); messages name it.
 * @throws {InvalidOptionError} naming the malformed field (`clusters[2].policy.deny[0].verbs[1]`) and the rule.
 */
export function validatePolicy(policy: unknown, optionName: string): CompiledPolicy {
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) {
    throw new InvalidOptionError(`${optionName} must be an object: { readOnly?, deny?, allow?, authorize? }`);
  }
  const p = policy as Record<string, unknown>;
  checkKnownOptions(policy as Policy, ['readOnly', 'deny', 'allow', 'authorize'], optionName);
  if (p.readOnly !== undefined && typeof p.readOnly !== 'boolean') throw new InvalidOptionError(`${optionName}.readOnly must be a boolean`);
  if (p.authorize !== undefined && typeof p.authorize !== 'function') {
    throw new InvalidOptionError(`${optionName}.authorize must be a function (request, user, cluster) => boolean | string | Promise<...>`);
  }
  const allow = p.allow === undefined ? undefined : validateRules(p.allow, `${optionName}.allow`, false);
  if (allow?.length === 0) {
    throw new InvalidOptionError(`${optionName}.allow is empty, which would allow nothing; leave it out, or deny everything with deny: [{}]`);
  }
  return {
    layers: [
      {
        where: optionName,
        readOnly: p.readOnly === true,
        deny: p.deny === undefined ? [] : validateRules(p.deny, `${optionName}.deny`, true),
        allow,
        authorize: p.authorize as PolicyAuthorize | undefined,
      },
    ],
  };
}

/**
 * The default policy for all clusters and a cluster's own, as one: both must allow. `undefined`
 * when neither is set (nothing to check).
 */
export function combinePolicies(...policies: (CompiledPolicy | undefined)[]): CompiledPolicy | undefined {
  const layers = policies.flatMap((policy) => policy?.layers ?? []);
  return layers.length === 0 ? undefined : { layers };
}
