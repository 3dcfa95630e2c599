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
  | 'Expired'
  | 'InternalError';

const CODES: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  Expired: 410,
  InternalError: 500,
};

/** An API error that becomes a Kubernetes `Status` body, as kube-apiserver sends it. */
export class StatusError extends Error {
  readonly reason: StatusReason;
  readonly code: number;
  readonly details: { name?: string; kind?: string } | undefined;

  constructor(reason: StatusReason, message: string, details?: { name?: string; kind?: string }) {
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

/** kube-apiserver's NotFound for a named object, e.g. `pods "web-1" not found`. */
export function notFound(kind: string, name: string): StatusError {
  return new StatusError('NotFound', `${kind} "${name}" not found`, { name, kind });
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
