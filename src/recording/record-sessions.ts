import { isAbsolute } from 'node:path';
import { InvalidOptionError } from '../errors.ts';

/** Where and how much of a cluster's exec and attach sessions are recorded. */
export interface RecordSessions {
  /** An absolute directory, existing and writable: one `<request id>.cast` file per session. */
  directory: string;
  /** Largest file per session, in bytes: a longer session's recording stops there (the session goes on). Default 10 MiB. */
  maxBytes?: number;
}

/** Default of {@link RecordSessions.maxBytes}. */
export const DEFAULT_RECORDING_MAX_BYTES = 10 * 1024 * 1024;

/** Checks `recordSessions` once, at construction. */
export function validateRecordSessions(value: RecordSessions, where: string): Required<RecordSessions> {
  if (typeof value !== 'object' || value === null) throw new InvalidOptionError(`${where} must be an object { directory, maxBytes? }`);
  for (const key of Object.keys(value)) if (key !== 'directory' && key !== 'maxBytes') throw new InvalidOptionError(`${where}.${key} is not an option; the options are directory and maxBytes`);
  if (typeof value.directory !== 'string' || !isAbsolute(value.directory)) throw new InvalidOptionError(`${where}.directory must be an absolute path`);
  const maxBytes = value.maxBytes ?? DEFAULT_RECORDING_MAX_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1024) throw new InvalidOptionError(`${where}.maxBytes must be a whole number of bytes, at least 1024`);
  return { directory: value.directory, maxBytes };
}
