import type { ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** The `reason` values of the Status objects the fake cluster answers with. */
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Expired'
  | 'Gone'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'Invalid'
  | 'InternalError'
  | 'Timeout';

const CODES: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  AlreadyExists: 409,
  Conflict: 409,
  Expired: 410,
  Gone: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  InternalError: 500,
  Timeout: 504,
};

/** One cause in a Status's details, e.g. a field that failed validation. */
export interface StatusCause {
  readonly reason?: string;
  readonly message?: string;
  readonly field?: string;
}

/** `details` of a Status, keys in the order kube-apiserver writes them. */
export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly uid?: string;
  readonly causes?: readonly StatusCause[];
  readonly retryAfterSeconds?: number;
}

/** An API error that becomes a Kubernetes `Status` body, as kube-apiserver sends it. */
export class StatusError extends Error {
  readonly reason: StatusReason;
  readonly code: number;
  readonly details: StatusDetails | undefined;

  constructor(reason: StatusReason, message: string, details?: StatusDetails) {
    super(message);
    this.name = 'StatusError';
    this.reason = reason;
    this.code = CODES[reason];
    this.details = details;
  }

  /** The `Status` object (kind v1/Status), e.g. `{"kind":"Status",...,"reason":"NotFound","code":404}`. */
  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** `resource.group` as kube-apiserver names a group resource in messages (`deployments.apps`). */
export function qualifiedResource(resource: string, group = ''): string {
  return group === '' ? resource : `${resource}.${group}`;
}

function resourceDetails(resource: string, name: string, group: string): StatusDetails {
  return group === '' ? { name, kind: resource } : { name, group, kind: resource };
}

/** kube-apiserver's NotFound for a named object, e.g. `pods "web-1" not found`. */
export function notFound(resource: string, name: string, group = ''): StatusError {
  return new StatusError('NotFound', `${qualifiedResource(resource, group)} "${name}" not found`, resourceDetails(resource, name, group));
}

export function alreadyExists(resource: string, name: string, group = ''): StatusError {
  return new StatusError('AlreadyExists', `${qualifiedResource(resource, group)} "${name}" already exists`, resourceDetails(resource, name, group));
}

/** The optimistic-concurrency failure of a write with a stale resourceVersion (or a failed precondition). */
export function conflict(resource: string, name: string, group = '', why = 'the object has been modified; please apply your changes to the latest version and try again'): StatusError {
  return new StatusError('Conflict', `Operation cannot be fulfilled on ${qualifiedResource(resource, group)} "${name}": ${why}`, resourceDetails(resource, name, group));
}

/** One field validation error, as `field.Error` prints it. */
export interface FieldError {
  readonly field: string;
  /** `FieldValueInvalid`, `FieldValueRequired`, `FieldValueNotSupported`, `FieldValueForbidden`, ... */
  readonly type: string;
  /** The whole message, e.g. `Invalid value: "X": must be lowercase`. */
  readonly message: string;
}

/** kube-apiserver's 422 for an object that fails validation: `Kind "name" is invalid: field: message`. */
export function invalid(kind: string, name: string, errors: readonly FieldError[], group = ''): StatusError {
  const texts = errors.map((error) => `${error.field}: ${error.message}`);
  const summary = texts.length === 1 ? (texts[0] ?? '') : `[${texts.join(', ')}]`;
  const qualifiedKind = group === '' ? kind : `${kind}.${group}`;
  return new StatusError('Invalid', `${qualifiedKind} "${name}" is invalid: ${summary}`, {
    name,
    ...(group === '' ? {} : { group }),
    kind,
    causes: errors.map((error) => ({ reason: error.type, message: error.message, field: error.field })),
  });
}

/** The 415 of a body (or patch) in a media type the resource does not accept. */
export function unsupportedMediaType(accepted: readonly string[]): StatusError {
  return new StatusError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
}

export function badRequest(message: string): StatusError {
  return new StatusError('BadRequest', message);
}

export function unauthorized(): StatusError {
  return new StatusError('Unauthorized', 'Unauthorized');
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendStatus(res: ServerResponse, error: StatusError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, error.code, error.toStatus());
}

/** Answers a refused upgrade with the same HTTP response a plain request would get, then closes the socket. */
export function rejectUpgrade(socket: Duplex, error: StatusError): void {
  const body = JSON.stringify(error.toStatus());
  socket.end(
    `HTTP/1.1 ${error.code} ${STATUS_CODES[error.code] ?? ''}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
