import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { InvalidOptionError } from '../errors.ts';

/** Where and how much of a cluster's exec and attach sessions are recorded (see docs/observability.md). */
export interface RecordSessions {
  /**
   * An absolute path to an existing directory the proxy can write to: one `<request id>.cast`
   * file (asciicast v2, mode 0600) per session. Required.
   */
  directory: string;
  /**
   * Largest file per session, in bytes, header included: a longer session's recording stops at
   * the last event that fits (the session goes on), and the audit event says `dropped:
   * 'size-limit'`. At least 1024. Default `10_485_760` (10 MiB).
   */
  maxBytes?: number;
}

/** Default of {@link RecordSessions.maxBytes}. */
export const DEFAULT_RECORDING_MAX_BYTES = 10 * 1024 * 1024;

/**
 * Checks `recordSessions` once, at construction: that the directory exists and is writable now,
 * rather than at the first exec.
 * @throws {InvalidOptionError} naming the option.
 */
export function validateRecordSessions(value: RecordSessions, where: string): Required<RecordSessions> {
  if (typeof value !== 'object' || value === null) throw new InvalidOptionError(`${where} must be an object { directory, maxBytes? }`);
  for (const key of Object.keys(value)) {
    if (key !== 'directory' && key !== 'maxBytes') throw new InvalidOptionError(`${where}.${key} is not an option; the options are directory and maxBytes`);
  }
  if (typeof value.directory !== 'string' || !isAbsolute(value.directory)) {
    throw new InvalidOptionError(`${where}.directory must be an absolute path to a directory; got ${JSON.stringify(value.directory)}`);
  }
  try {
    if (!statSync(value.directory).isDirectory()) throw new Error('not a directory');
    accessSync(value.directory, constants.W_OK);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new InvalidOptionError(`${where}.directory ${JSON.stringify(value.directory)} must be an existing directory the proxy can write to (${why}): create it first`);
  }
  const maxBytes = value.maxBytes ?? DEFAULT_RECORDING_MAX_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1024) {
    throw new InvalidOptionError(`${where}.maxBytes must be a whole number of bytes, at least 1024; got ${String(maxBytes)}`);
  }
  return { directory: value.directory, maxBytes };
}
