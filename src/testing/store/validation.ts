import type { FieldError } from '../status.ts';
import { isObject, type KubeObject } from './objects.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

export const DNS_LABEL_RULE = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')";
export const DNS_SUBDOMAIN_RULE = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')";

export function isDnsSubdomain(value: unknown): value is string {
  return typeof value === 'string' && DNS_SUBDOMAIN.test(value);
}

export function isDnsLabelName(value: unknown): value is string {
  return typeof value === 'string' && DNS_LABEL.test(value);
}

export const required = (field: string, detail?: string): FieldError => ({
  field,
  type: 'FieldValueRequired',
  message: detail ? `Required value: ${detail}` : 'Required value',
});

export const invalidValue = (field: string, value: unknown, detail: string): FieldError => ({
  field,
  type: 'FieldValueInvalid',
  message: `Invalid value: ${JSON.stringify(value) ?? "null"}: ${detail}`,
});

export const unsupportedValue = (field: string, value: unknown, supported: readonly string[]): FieldError => ({
  field,
  type: 'FieldValueNotSupported',
  message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
});

export const duplicateValue = (field: string, value: unknown): FieldError => ({
  field,
  type: 'FieldValueDuplicate',
  message: `Duplicate value: ${JSON.stringify(value)}`,
});

/** Labels and annotations: maps of strings, with label keys and values in their formats. */
export function validateMetadataMaps(metadata: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  for (const [field, labels] of [['labels', true], ['annotations', false]] as const) {
    const map = metadata[field];
    if (map === undefined || map === null) continue;
    if (!isObject(map)) {
      errors.push(invalidValue(`metadata.${field}`, map, 'must be a map of strings'));
      continue;
    }
    for (const [key, value] of Object.entries(map)) {
      if (!QUALIFIED_NAME.test(key)) {
        errors.push(invalidValue(`metadata.${field}`, key, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, with an optional DNS subdomain prefix and '/'"));
      }
      if (typeof value !== 'string') errors.push(invalidValue(`metadata.${field}.${key}`, value, 'must be a string'));
      else if (labels && !LABEL_VALUE.test(value)) {
        errors.push(invalidValue(`metadata.labels`, value, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63 characters)"));
      }
    }
  }
  return errors;
}

/** A map of strings (ConfigMap `data`, Secret `stringData`). */
export function validateStringMap(field: string, value: unknown): FieldError[] {
  if (value === undefined || value === null) return [];
  if (!isObject(value)) return [invalidValue(field, value, 'must be a map of strings')];
  return Object.entries(value).flatMap(([key, item]) => [
    ...(/^[-._a-zA-Z0-9]+$/.test(key) ? [] : [invalidValue(field, key, "a valid config key must consist of alphanumeric characters, '-', '_' or '.'")]),
    ...(typeof item === 'string' ? [] : [invalidValue(`${field}[${key}]`, item, 'must be a string')]),
  ]);
}
