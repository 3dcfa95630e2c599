import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

/** The header by which kube-cluster-proxy marks the errors it made itself (not the cluster's). */
const PROXY_ERROR_HEADER = 'x-kube-cluster-proxy-error';

/** Bounds what is kept of an error answer, so a runaway body cannot fill the test's memory. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** A Kubernetes `Status` object, as far as the test client reads it. */
export interface KubeStatus {
  readonly kind?: string;
  readonly status?: string;
  readonly message?: string;
  readonly reason?: string;
  readonly code?: number;
  readonly details?: { readonly causes?: readonly { readonly reason?: string; readonly message?: string }[]; readonly [key: string]: unknown };
}

/**
 * A request of {@link testClient} that the server refused: a WebSocket upgrade answered with
 * something else than `101`, or a log or watch request answered with something else than `2xx`.
 * `message` carries the Status message; `get()` and `request()` do not throw on a status.
 */
export class TestClientError extends Error {
  /** The HTTP status code of the answer (`403`, `404`, ...). */
  readonly code: number;
  /** The Status `reason` (`Forbidden`, `NotFound`, ...), when the body was a Status. */
  readonly reason: string | undefined;
  /** The answer's body: the parsed Status when it was JSON, else its text. */
  readonly body: unknown;
  /** The answer's headers. */
  readonly headers: IncomingHttpHeaders;

  constructor(what: string, code: number, headers: IncomingHttpHeaders, body: unknown) {
    const status = isStatus(body) ? body : undefined;
    const proxyCode = headers[PROXY_ERROR_HEADER];
    const detail = status?.message ?? (typeof body === 'string' && body !== '' ? body.slice(0, 200) : 'no message');
    super(`${what} was answered ${code}${status?.reason ? ` ${status.reason}` : ''}: ${detail}${proxyCode ? ` (${String(proxyCode)}, made by the proxy)` : ''}`);
    this.name = 'TestClientError';
    this.code = code;
    this.reason = status?.reason;
    this.body = body;
    this.headers = headers;
  }
}

function isStatus(body: unknown): body is KubeStatus {
  return typeof body === 'object' && body !== null && (body as { kind?: unknown }).kind === 'Status';
}

/** The body parsed as JSON when its content type says JSON (and it parses), else its text. */
export function parseBody(contentType: string | undefined, text: string): unknown {
  if (!/[/+]json\b/.test(contentType ?? '') || text === '') return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Reads a whole answer, at most `limit` bytes of it (the rest is dropped). */
export async function readBody(res: IncomingMessage, limit = Infinity): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    const buffer = chunk as Buffer;
    if (size < limit) chunks.push(buffer.subarray(0, limit - size));
    size += buffer.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The {@link TestClientError} for a refused answer, once its (bounded) body is read. */
export async function refusal(what: string, res: IncomingMessage): Promise<TestClientError> {
  let text = '';
  try {
    text = await readBody(res, MAX_ERROR_BODY_BYTES);
  } catch {
    // A body cut short still leaves the status code to report.
  }
  return new TestClientError(what, res.statusCode ?? 0, res.headers, parseBody(res.headers['content-type'], text));
}
