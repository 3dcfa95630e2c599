import type { IncomingMessage } from 'node:http';
import { answerReview, readReview, REVIEW_KINDS, type ReviewResource } from './access-reviews.ts';
import type { UserInfo } from './authentication.ts';
import type { Authorizer } from './authorization.ts';
import { apiGroup, coreResources, coreVersions, groupList, groupResources, versionInfo } from './discovery.ts';
import type { ExecRequest } from './exec-session.ts';
import { serveLogs } from './logs.ts';
import type { PodStore } from './pod-store.ts';
import { chooseContainer, type StoredPod } from './pods.ts';
import { booleanParameter } from './query.ts';
import { badRequest, notFound, StatusError } from './status.ts';
import { openApiDocument, openApiIndex } from './store/openapi.ts';
import { parseResourcePath, requestAttributes } from './store/resource-path.ts';
import { serveResource, type ResourceContext } from './store/rest.ts';
import type { Responder } from './stream-sink.ts';
import type { StreamTracker } from './streams.ts';

/** What the API routes need from the running fake cluster. */
export interface ApiContext {
  readonly store: PodStore;
  /** Every stored kind, for the generic resource handlers. */
  readonly resources: ResourceContext;
  readonly authorizer: Authorizer;
  readonly streams: StreamTracker;
  /** `host:port`, for `serverAddressByClientCIDRs`. */
  readonly serverAddress: () => string;
}

/** Paths served only as WebSocket upgrades (exec and attach). */
export const EXEC_PATH = /^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+\/(exec|attach)$/;

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

function requirePod(store: PodStore, namespace: string, name: string): StoredPod {
  const pod = store.get(namespace, name);
  if (!pod) throw notFound('pods', name);
  return pod;
}

const NOT_FOUND = () => new StatusError('NotFound', 'the server could not find the requested resource', {});

/** Discovery, OpenAPI, version and health: the paths that are not resources. */
function nonResourceDocument(context: ApiContext, path: string): (() => unknown) | undefined {
  const { types } = context.resources;
  switch (path) {
    case '/version':
      return versionInfo;
    case '/api':
      return () => coreVersions(context.serverAddress());
    case '/api/v1':
      return () => coreResources(types);
    case '/apis':
      return () => groupList(types);
    case '/openapi/v3':
      return () => openApiIndex(types);
  }
  const group = /^\/apis\/([^/]+)$/.exec(path);
  if (group) return group[1] && apiGroup(types, group[1]) ? () => apiGroup(types, group[1] ?? '') : undefined;
  const groupVersion = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
  if (groupVersion) {
    const document = groupResources(types, groupVersion[1] ?? '', groupVersion[2] ?? '');
    return document && (() => document);
  }
  const openApi = /^\/openapi\/v3\/(.+)$/.exec(path);
  if (openApi) {
    const document = openApiDocument(types, openApi[1] ?? '');
    return document && (() => document);
  }
  return undefined;
}

/** Throws the apiserver's 403 unless the user's rules allow the request (exec, attach and port-forward need `create`). */
export function authorizeRequest(context: Pick<ApiContext, 'authorizer'>, req: IncomingMessage, user: UserInfo): void {
  const url = new URL(req.url ?? '/', 'https://fake.invalid');
  const segments = pathSegments(url);
  context.authorizer.authorize(user, requestAttributes(req.method ?? 'GET', `/${segments.join('/')}`, parseResourcePath(segments, url.searchParams)));
}

const REVIEW_PATH = /^\/apis\/(authentication|authorization)\.k8s\.io\/v1\/([a-z]+)$/;

/**
 * Serves one authenticated API request: health, discovery, OpenAPI, the review kinds, every stored
 * kind (with watches) and pod logs, after authorizing it. Throws a `StatusError` for anything the
 * apiserver would refuse.
 */
export async function serveApiRequest(context: ApiContext, req: IncomingMessage, responder: Responder, user: UserInfo): Promise<void> {
  const { store, streams } = context;
  const url = new URL(req.url ?? '/', 'https://fake.invalid');
  const query = url.searchParams;
  const segments = pathSegments(url);
  const method = req.method ?? 'GET';
  const path = `/${segments.join('/')}`;
  const request = parseResourcePath(segments, query);
  authorizeRequest(context, req, user);

  if (path === '/healthz' || path === '/livez' || path === '/readyz') return responder.text(200, 'ok');
  const review = REVIEW_PATH.exec(path);
  if (review && review[2] && review[2] in REVIEW_KINDS && REVIEW_KINDS[review[2] as ReviewResource].apiVersion.startsWith(`${review[1] ?? ''}.`)) {
    if (method !== 'POST') throw methodNotAllowed();
    const resource = review[2] as ReviewResource;
    responder.json(201, answerReview(context.authorizer, user, resource, await readReview(req, resource)));
    return;
  }
  const document = nonResourceDocument(context, path);
  if (document) {
    if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed();
    return responder.json(200, document());
  }
  if (!request) throw NOT_FOUND();
  if (request.group === '' && request.resource === 'pods' && ['log', 'exec', 'attach', 'portforward'].includes(request.subresource)) {
    const pod = requirePod(store, request.namespace, request.name);
    if (request.subresource !== 'log') throw badRequest('Upgrade request required');
    if (method !== 'GET') throw methodNotAllowed();
    serveLogs(responder, query, store, streams, pod);
    return;
  }
  return serveResource(context.resources, req, responder, request, query);
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
