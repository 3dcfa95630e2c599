import type { StoredPod } from './pods.ts';
import { badRequest } from './status.ts';

/** A predicate over pods built from `labelSelector` and `fieldSelector` query parameters. */
export type PodFilter = (pod: StoredPod) => boolean;

/** Splits on commas that are not inside `in (a,b)` value sets. */
function splitRequirements(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current.trim());
  return parts.filter((part) => part !== '');
}

function labelRequirement(requirement: string): (labels: Record<string, string>) => boolean {
  const set = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(requirement);
  if (set) {
    const [, key = '', operator, list = ''] = set;
    const values = new Set(list.split(',').map((v) => v.trim()));
    return operator === 'in'
      ? (labels) => labels[key] !== undefined && values.has(labels[key])
      : (labels) => labels[key] === undefined || !values.has(labels[key]);
  }
  const comparison = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(requirement);
  if (comparison) {
    const [, key = '', operator, value] = comparison;
    return operator === '!=' ? (labels) => labels[key] !== value : (labels) => labels[key] === value;
  }
  const exists = /^(!?)([^=!\s()]+)$/.exec(requirement);
  if (exists) {
    const [, not, key = ''] = exists;
    return not ? (labels) => !(key in labels) : (labels) => key in labels;
  }
  throw badRequest(`unable to parse requirement: ${JSON.stringify(requirement)}`);
}

const FIELDS: Record<string, (pod: StoredPod) => string> = {
  'metadata.name': (pod) => pod.name,
  'metadata.namespace': (pod) => pod.namespace,
  'spec.nodeName': (pod) => pod.nodeName,
  'status.phase': (pod) => pod.phase,
  'status.podIP': (pod) => pod.podIP,
};

function fieldRequirement(requirement: string): PodFilter {
  const match = /^([^=!]+)(==|=|!=)(.*)$/.exec(requirement);
  if (!match) throw badRequest(`invalid field selector: ${JSON.stringify(requirement)}`);
  const [, field = '', operator, value] = match;
  const read = FIELDS[field];
  if (!read) throw badRequest(`"${field}" is not a known field selector: only "${Object.keys(FIELDS).join('", "')}"`);
  return operator === '!=' ? (pod) => read(pod) !== value : (pod) => read(pod) === value;
}

/** Builds the filter; malformed selectors throw a BadRequest `StatusError`, as the apiserver answers. */
export function podFilter(query: URLSearchParams): PodFilter {
  const labels = splitRequirements(query.get('labelSelector') ?? '').map(labelRequirement);
  const fields = splitRequirements(query.get('fieldSelector') ?? '').map(fieldRequirement);
  return (pod) => labels.every((matches) => matches(pod.labels)) && fields.every((matches) => matches(pod));
}
