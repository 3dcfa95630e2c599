import { badRequest } from './status.ts';

/** Go's `strconv.ParseBool` spellings, which kube-apiserver accepts in query parameters. */
const BOOLEANS: Record<string, boolean> = {
  '1': true, t: true, T: true, true: true, TRUE: true, True: true,
  '0': false, f: false, F: false, false: false, FALSE: false, False: false,
};

export function booleanParameter(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null || value === '') return false;
  const parsed = BOOLEANS[value];
  if (parsed === undefined) throw badRequest(`invalid boolean value for query parameter ${name}: "${value}"`);
  return parsed;
}

/** A non-negative integer parameter, or `undefined` when absent. */
export function integerParameter(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  if (!/^\d{1,15}$/.test(value)) {
    throw badRequest(`invalid value for query parameter ${name}: "${value}" (must be a non-negative integer)`);
  }
  return Number(value);
}
