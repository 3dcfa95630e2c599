import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BEARER_PROTOCOL_PREFIX } from './authentication.ts';
import { parseBody, readBody, refusal } from './client-answer.ts';
import { execQuery, runExec, type ExecOptions, type ExecResult } from './client-exec.ts';
import { logStream, watchStream, type ClientStream, type KubeObject, type WatchEvent } from './client-streams.ts';

/** Options of {@link testClient}. */
export interface TestClientOptions {
  /** Bearer token sent with every request. Default: none. */
  token?: string;
  /**
   * How exec upgrades carry `token`: `'header'` (`Authorization: Bearer`, as kubectl) or
   * `'subprotocol'` (the `base64url.bearer.authorization.k8s.io.<token>` WebSocket subprotocol, as
   * browsers must). Plain requests always use the header. Default: `'header'`.
   */
  tokenIn?: 'header' | 'subprotocol';
  /** PEM CA to trust for an `https:` base URL, e.g. a fake cluster's `ca`. Default: Node's roots. */
  ca?: string | Buffer;
  /** Headers sent with every request and upgrade, e.g. `Cookie` or `Origin`. Default: none. */
  headers?: Record<string, string>;
}

/** An answer of {@link TestClient.get} or {@link TestClient.request}. */
export interface TestResponse<T = KubeObject> {
  /** The HTTP status code. */
  readonly status: number;
  /** The response headers (lowercase names). */
  readonly headers: IncomingHttpHeaders;
  /** The body: parsed when its content type is JSON, else its text. */
  readonly body: T;
}

/** Options of {@link TestClient.logs}. */
export interface LogOptions {
  /** Keep the request open and stream new lines (`follow=true`). Default: `false`. */
  follow?: boolean;
  /** The container whose log to read. Default: none, which the server accepts for a pod with one container. */
  container?: string;
  /** Only the last this many lines. Default: all. */
  tailLines?: number;
}

/** A client for tests, made by {@link testClient}. Every path is relative to the base URL and starts with `/`. */
export interface TestClient {
  /** `GET path`. Never throws on a status: assert on `status`. */
  get<T = KubeObject>(path: string): Promise<TestResponse<T>>;
  /**
   * Any request. An object `body` is sent as JSON (`application/merge-patch+json` for PATCH), a
   * string or Buffer as is; `headers` override the defaults. Never throws on a status.
   */
  request<T = KubeObject>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse<T>>;
  /**
   * Runs `command` in a pod over WebSocket (`v5.channel.k8s.io`, else `v4.channel.k8s.io`) and
   * resolves once it ended. Throws a {@link TestClientError} when the upgrade is refused.
   */
  exec(namespace: string, pod: string, command: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /**
   * Watches `path` (`watch=1` is added) and resolves once the server accepted the watch: a change
   * made after that is in the stream. Throws a {@link TestClientError} when refused.
   */
  watch<T = KubeObject>(path: string): Promise<ClientStream<WatchEvent<T>>>;
  /** A pod's log as text. Throws a {@link TestClientError} when refused (unknown pod, container waiting). */
  logs(namespace: string, pod: string, options?: LogOptions & { follow?: false }): Promise<string>;
  /** A followed log: text chunks as they arrive, until the pod ends or the stream is closed. */
  logs(namespace: string, pod: string, options: LogOptions & { follow: true }): Promise<ClientStream<string>>;
}

function validate(baseUrl: unknown, options: TestClientOptions): URL {
  if (typeof baseUrl !== 'string' || !URL.canParse(baseUrl)) {
    throw new TypeError(`testClient(): baseUrl must be an absolute URL such as "http://127.0.0.1:8080/clusters/dev", got ${JSON.stringify(baseUrl)}`);
  }
  const url = new URL(baseUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`testClient(): baseUrl must use http: or https:, got "${url.protocol}" in ${baseUrl}`);
  }
  if (url.search !== '' || url.hash !== '') throw new TypeError(`testClient(): baseUrl must have no query or fragment, got ${baseUrl}`);
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token === '')) {
    throw new TypeError('testClient(): token must be a non-empty string (is an environment variable unset?)');
  }
  if (options.tokenIn !== undefined && options.tokenIn !== 'header' && options.tokenIn !== 'subprotocol') {
    throw new TypeError(`testClient(): tokenIn must be 'header' or 'subprotocol', got ${JSON.stringify(options.tokenIn)}`);
  }
  if (options.ca !== undefined && typeof options.ca !== 'string' && !Buffer.isBuffer(options.ca)) {
    throw new TypeError('testClient(): ca must be a PEM string or Buffer (e.g. a fake cluster\'s `ca`)');
  }
  return url;
}

function checkPath(path: unknown): string {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new TypeError(`testClient: a path must start with "/", e.g. "/api/v1/namespaces", got ${JSON.stringify(path)}`);
  }
  return path;
}

/** `path` with query parameters set (over any it already has). */
function withQuery(path: string, parameters: Record<string, string>): string {
  const url = new URL(path, 'http://path.invalid');
  for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
  return `${url.pathname}${url.search}`;
}

function encodeBody(method: string, body: unknown): { data: Buffer | undefined; contentType: string | undefined } {
  if (body === undefined) return { data: undefined, contentType: undefined };
  if (typeof body === 'string' || Buffer.isBuffer(body)) return { data: Buffer.from(body), contentType: undefined };
  // The API server refuses a PATCH sent as application/json (415); a merge patch is what tests mean.
  return { data: Buffer.from(JSON.stringify(body)), contentType: method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' };
}

/**
 * A small client for tests against any URL that speaks the Kubernetes API: a proxy's
 * `<origin><mountPath>/<cluster>` URL, or a fake cluster's own `url` with its `ca`. Each request
 * uses its own connection, so that nothing it leaves open keeps a test runner alive.
 * @throws {TypeError} when `baseUrl` or an option is invalid, naming it.
 *
 * @example
 * ```ts
 * const client = testClient(`${app.url}/clusters/dev`, { token: 'alice-token' });
 * const { status, body } = await client.get('/api/v1/namespaces/default/pods');
 * const { stdout } = await client.exec('default', 'web-fake-1', ['echo', 'hi']);
 * ```
 */
export function testClient(baseUrl: string, options: TestClientOptions = {}): TestClient {
  const base = validate(baseUrl, options);
  const prefix = `${base.origin}${base.pathname.replace(/\/+$/, '')}`;
  const tokenIn = options.tokenIn ?? 'header';
  const authorization: Record<string, string> = options.token === undefined ? {} : { Authorization: `Bearer ${options.token}` };
  const send = base.protocol === 'https:' ? httpsRequest : httpRequest;

  /** Sends a request and resolves with the answer's head; the body is left to read. */
  function open(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ req: ClientRequest; res: IncomingMessage }> {
    const url = `${prefix}${checkPath(path)}`;
    const { data, contentType } = encodeBody(method, body);
    return new Promise((resolve, reject) => {
      const req = send(url, {
        method,
        agent: false,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        headers: {
          Accept: 'application/json, */*',
          ...(contentType ? { 'Content-Type': contentType } : {}),
          ...authorization,
          ...options.headers,
          ...headers,
        },
      });
      req.on('response', (res) => resolve({ req, res }));
      req.on('error', (error) => reject(new Error(`${method} ${url}: ${error.message}`, { cause: error })));
      req.end(data);
    });
  }

  async function request<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse<T>> {
    const { res } = await open(method, path, body, headers);
    const text = await readBody(res);
    return { status: res.statusCode ?? 0, headers: res.headers, body: parseBody(res.headers['content-type'], text) as T };
  }

  /** Opens a streaming GET; a non-2xx answer becomes a {@link TestClientError}. */
  async function openStream(what: string, path: string): Promise<{ req: ClientRequest; res: IncomingMessage }> {
    const opened = await open('GET', path);
    const code = opened.res.statusCode ?? 0;
    if (code < 200 || code > 299) throw await refusal(`${what} ${path}`, opened.res);
    return opened;
  }

  const podPath = (namespace: string, pod: string, sub: string) =>
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/${sub}`;

  async function logs(namespace: string, pod: string, logOptions: LogOptions = {}): Promise<string | ClientStream<string>> {
    const parameters: Record<string, string> = {};
    if (logOptions.container !== undefined) parameters.container = logOptions.container;
    if (logOptions.tailLines !== undefined) parameters.tailLines = String(logOptions.tailLines);
    if (logOptions.follow) parameters.follow = 'true';
    const path = withQuery(podPath(namespace, pod, 'log'), parameters);
    const { req, res } = await openStream('the log request', path);
    return logOptions.follow ? logStream(req, res) : readBody(res);
  }

  return {
    get: (path) => request('GET', path),
    request,
    exec(namespace, pod, command, execOptions = {}) {
      if (!Array.isArray(command) || command.length === 0 || !command.every((part) => typeof part === 'string')) {
        return Promise.reject(new TypeError(`exec(): command must be a non-empty array of strings, got ${JSON.stringify(command)}`));
      }
      const path = `${podPath(namespace, pod, 'exec')}?${execQuery(command, execOptions).toString()}`;
      const bearer = options.token !== undefined && tokenIn === 'subprotocol';
      return runExec(
        {
          url: `${prefix.replace(/^http/, 'ws')}${path}`,
          headers: { ...(bearer ? {} : authorization), ...options.headers },
          extraProtocols: bearer ? [`${BEARER_PROTOCOL_PREFIX}${Buffer.from(options.token ?? '').toString('base64url')}`] : [],
          ca: options.ca,
        },
        `${namespace}/${pod} [${command.join(' ')}]`,
        execOptions,
      );
    },
    async watch<T>(path: string) {
      const { req, res } = await openStream('the watch', withQuery(checkPath(path), { watch: '1' }));
      return watchStream<T>(req, res);
    },
    logs: logs as TestClient['logs'],
  };
}
