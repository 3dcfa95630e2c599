import type { IncomingMessage } from 'node:http';
import type { UserInfo } from './authentication.ts';
import { authenticationGroup, authenticationResources, coreResources, coreVersions, groupList, versionInfo } from './discovery.ts';
import type { ExecRequest } from './exec-session.ts';
import { serveLogs } from './logs.ts';
import type { PodStore } from './pod-store.ts';
import { chooseContainer, podObject, type StoredPod } from './pods.ts';
import { booleanParameter } from './query.ts';
import { podFilter } from './selectors.ts';
import { badRequest, notFound, StatusError } from './status.ts';
import type { Responder } from './stream-sink.ts';
import type { StreamTracker } from './streams.ts';
import { includeObjectParameter, namespaceObject, namespaceTable, podTable, wantsTable } from './tables.ts';
import { serveNamespaceWatch, servePodWatch } from './watch.ts';

/** What the API routes need from the running fake cluster. */
export interface ApiContext {
  readonly store: PodStore;
  readonly streams: StreamTracker;
  /** Creation time of the derived namespaces. */
  readonly startedAt: Date;
  /** `host:port`, for `serverAddressByClientCIDRs`. */
  readonly serverAddress: () => string;
}

/** Paths served only as WebSocket upgrades (exec and attach). */
export const EXEC_PATH = /^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+\/(exec|attach)$/;

const MAX_BODY_BYTES = 1024 * 1024;

function methodNotAllowed(): StatusError {
  return new StatusError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

function pathSegments(url: URL): string[] {
  try {
    return url.pathname.split('/').filter((segment) => segment !== '').map(decodeURIComponent);
  } catch {
    throw badRequest(`malformed path: ${url.pathname}`);
  }
}

/** Protobuf-encoded objects start with this magic (kubectl sends built-in types as protobuf). */
const PROTOBUF_MAGIC = Buffer.from('k8s\0', 'latin1');

/**
 * Reads a request body and checks that it is an object of `kind`. JSON is parsed; protobuf (which
 * the fake does not decode) is only checked for its envelope, as the objects it accepts carry no
 * information the fake needs.
 */
async function readObjectBody(req: IncomingMessage, kind: string): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw badRequest('the request body is too large');
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  const contentType = req.headers['content-type'] ?? '';
  if (contentType.startsWith('application/vnd.kubernetes.protobuf')) {
    if (!body.subarray(0, 4).equals(PROTOBUF_MAGIC) || !body.includes(kind)) throw badRequest(`the body must be a protobuf ${kind} object`);
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || (parsed as { kind?: unknown }).kind !== kind) {
    throw badRequest(`the body must be a ${kind} object`);
  }
}

function requirePod(store: PodStore, namespace: string, name: string): StoredPod {
  const pod = store.get(namespace, name);
  if (!pod) throw notFound('pods', name);
  return pod;
}

function requireNamespace(store: PodStore, namespace: string): void {
  if (!store.namespaces().includes(namespace)) throw notFound('namespaces', namespace);
}

function servePodList(context: ApiContext, req: IncomingMessage, responder: Responder, query: URLSearchParams, namespace: string | undefined): void {
  const { store, streams } = context;
  const filter = podFilter(query);
  const table = wantsTable(req.headers.accept) ? includeObjectParameter(query) : undefined;
  if (booleanParameter(query, 'watch')) {
    servePodWatch(responder, query, store, streams, { namespace, filter, table });
    return;
  }
  const pods = store.list(namespace).filter(filter);
  if (table) {
    responder.json(200, podTable(pods, table, store.resourceVersion));
    return;
  }
  responder.json(200, {
    kind: 'PodList',
    apiVersion: 'v1',
    metadata: { resourceVersion: String(store.resourceVersion) },
    items: pods.map((pod) => {
      // List items carry no kind/apiVersion, as with the real apiserver.
      const item = podObject(pod);
      delete item.kind;
      delete item.apiVersion;
      return item;
    }),
  });
}

/**
 * Serves one authenticated API request: discovery, health, selfsubjectreviews, namespaces, pods,
 * watches and logs. Throws a `StatusError` for anything the apiserver would refuse.
 */
export async function serveApiRequest(context: ApiContext, req: IncomingMessage, responder: Responder, user: UserInfo): Promise<void> {
  const { store, streams, startedAt } = context;
  const url = new URL(req.url ?? '/', 'https://fake.invalid');
  const query = url.searchParams;
  const segments = pathSegments(url);
  const method = req.method ?? 'GET';
  const path = `/${segments.join('/')}`;
  const get = (body: () => unknown) => {
    if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed();
    responder.json(200, body());
  };
  const table = () => (wantsTable(req.headers.accept) ? includeObjectParameter(query) : undefined);

  switch (path) {
    case '/healthz':
    case '/livez':
    case '/readyz':
      return responder.text(200, 'ok');
    case '/version':
      return get(versionInfo);
    case '/api':
      return get(() => coreVersions(context.serverAddress()));
    case '/api/v1':
      return get(coreResources);
    case '/apis':
      return get(groupList);
    case '/apis/authentication.k8s.io':
      return get(authenticationGroup);
    case '/apis/authentication.k8s.io/v1':
      return get(authenticationResources);
    case '/apis/authentication.k8s.io/v1/selfsubjectreviews': {
      if (method !== 'POST') throw methodNotAllowed();
      await readObjectBody(req, 'SelfSubjectReview');
      responder.json(201, {
        kind: 'SelfSubjectReview',
        apiVersion: 'authentication.k8s.io/v1',
        metadata: { creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') },
        status: { userInfo: { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups, ...(user.extra ? { extra: user.extra } : {}) } },
      });
      return;
    }
    case '/api/v1/pods':
      if (method !== 'GET') throw methodNotAllowed();
      return servePodList(context, req, responder, query, undefined);
    case '/api/v1/watch/pods':
      query.set('watch', 'true');
      return servePodList(context, req, responder, query, undefined);
    case '/api/v1/namespaces':
    case '/api/v1/watch/namespaces': {
      const include = table();
      if (method === 'GET' && (path.startsWith('/api/v1/watch/') || booleanParameter(query, 'watch'))) {
        serveNamespaceWatch(responder, query, store, streams, { created: startedAt, table: include });
        return;
      }
      return get(() =>
        include
          ? namespaceTable(store.namespaces(), startedAt, include, store.resourceVersion)
          : {
              kind: 'NamespaceList',
              apiVersion: 'v1',
              metadata: { resourceVersion: String(store.resourceVersion) },
              items: store.namespaces().map((name) => namespaceObject(name, startedAt)),
            },
      );
    }
  }

  const [api, version, kind, namespace, resource, name, subresource, ...rest] = segments;
  if (api === 'api' && version === 'v1' && kind === 'watch' && namespace === 'namespaces' && name === 'pods' && subresource === undefined && resource) {
    query.set('watch', 'true');
    return servePodList(context, req, responder, query, resource);
  }
  if (api !== 'api' || version !== 'v1' || kind !== 'namespaces' || namespace === undefined || rest.length > 0) {
    throw new StatusError('NotFound', 'the server could not find the requested resource', {});
  }
  if (resource === undefined) {
    requireNamespace(store, namespace);
    const include = table();
    return get(() => (include ? namespaceTable([namespace], startedAt, include, store.resourceVersion) : namespaceObject(namespace, startedAt)));
  }
  if (resource !== 'pods') throw new StatusError('NotFound', 'the server could not find the requested resource', {});
  if (name === undefined) {
    if (method !== 'GET') throw methodNotAllowed();
    return servePodList(context, req, responder, query, namespace);
  }
  const pod = requirePod(store, namespace, name);
  switch (subresource) {
    case undefined: {
      if (method === 'DELETE') {
        responder.json(200, podObject(store.delete(namespace, name)));
        return;
      }
      const include = table();
      return get(() => (include ? podTable([pod], include, store.resourceVersion) : podObject(pod)));
    }
    case 'log':
      if (method !== 'GET') throw methodNotAllowed();
      serveLogs(responder, query, store, streams, pod);
      return;
    case 'exec':
    case 'attach':
    case 'portforward':
      throw badRequest('Upgrade request required');
    default:
      throw new StatusError('NotFound', 'the server could not find the requested resource', {});
  }
}

/** The exec or attach request a WebSocket upgrade asks for, validated as the apiserver does. */
export function parseExecRequest(store: PodStore, req: IncomingMessage, user: UserInfo): { request: ExecRequest; attach: boolean } {
  const url = new URL(req.url ?? '/', 'https://fake.invalid');
  const [api, version, kind, namespace = '', resource, name = '', subresource, ...rest] = pathSegments(url);
  if (api !== 'api' || version !== 'v1' || kind !== 'namespaces' || resource !== 'pods' || rest.length > 0 || (subresource !== 'exec' && subresource !== 'attach')) {
    throw new StatusError('NotFound', 'the server could not find the requested resource', {});
  }
  const pod = requirePod(store, namespace, name);
  const query = url.searchParams;
  const container = chooseContainer(pod, query.get('container'));
  if (pod.phase === 'Succeeded' || pod.phase === 'Failed') {
    throw badRequest(`cannot ${subresource} into a container in a completed pod; current phase is ${pod.phase}`);
  }
  if (pod.phase === 'Pending') throw badRequest(`container "${container}" in pod "${pod.name}" is waiting to start: ContainerCreating`);
  const argv = query.getAll('command');
  if (subresource === 'exec' && argv.length === 0) throw badRequest('you must specify at least one command for the container');
  const request: ExecRequest = {
    argv,
    namespace,
    pod: name,
    container,
    user: user.username,
    stdin: booleanParameter(query, 'stdin'),
    stdout: booleanParameter(query, 'stdout'),
    stderr: booleanParameter(query, 'stderr'),
    tty: booleanParameter(query, 'tty'),
  };
  if (!request.stdin && !request.stdout && !request.stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
  return { request, attach: subresource === 'attach' };
}
