import { badRequest } from './status.ts';
import { metadataOf, type KubeObject } from './store/objects.ts';

/** A predicate over objects built from `labelSelector` and `fieldSelector` query parameters. */
export type ObjectFilter = (object: KubeObject) => boolean;

/** How a field selector reads a field of an object. */
export type SelectableFields = Readonly<Record<string, (object: KubeObject) => string>>;

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

const METADATA_FIELDS: SelectableFields = {
  'metadata.name': (object) => metadataOf(object).name ?? '',
  'metadata.namespace': (object) => metadataOf(object).namespace ?? '',
};

function fieldRequirement(requirement: string, known: SelectableFields): ObjectFilter {
  const match = /^([^=!]+)(==|=|!=)(.*)$/.exec(requirement);
  if (!match) throw badRequest(`invalid field selector: ${JSON.stringify(requirement)}`);
  const [, field = '', operator, value] = match;
  const read = known[field];
  if (!read) throw badRequest(`"${field}" is not a known field selector: only "${Object.keys(known).join('", "')}"`);
  return operator === '!=' ? (object) => read(object) !== value : (object) => read(object) === value;
}

/**
 * Builds the filter of a list or watch from `labelSelector` and `fieldSelector` (`metadata.name`,
 * `metadata.namespace` and the kind's own fields); malformed selectors throw a BadRequest
 * `StatusError`, as the apiserver answers.
 */
export function objectFilter(query: URLSearchParams, fields: SelectableFields = {}): ObjectFilter {
  const known = { ...METADATA_FIELDS, ...fields };
  const labels = splitRequirements(query.get('labelSelector') ?? '').map(labelRequirement);
  const selected = splitRequirements(query.get('fieldSelector') ?? '').map((requirement) => fieldRequirement(requirement, known));
  return (object) => {
    const objectLabels = metadataOf(object).labels ?? {};
    return labels.every((matches) => matches(objectLabels)) && selected.every((matches) => matches(object));
  };
}
