import { once } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Server as TlsServer } from 'node:tls';
import { authorizeRequest, serveApiRequest, type ApiContext } from './api-routes.ts';
import { Authenticator, type AuthenticationMethod, type TokenUser, type UserInfo } from './authentication.ts';
import { createCertificateAuthority, type CertificateAndKey } from './certificates.ts';
import { runBuiltinCommand } from './commands.ts';
import type { ExecHandler } from './exec-context.ts';
import { createClusterState, type FakeClusterObjects } from './cluster-state.ts';
import type { FakeFileSystem } from './file-tree.ts';
import { PodRuntimes } from './pod-runtime.ts';
import { OidcVerifier, type FakeOidcOptions } from './oidc-verifier.ts';
import { isDnsLabel, type FakePod, type FakePodPatch } from './pods.ts';
import { rejectUpgrade, sendStatus, StatusError } from './status.ts';
import { httpResponder } from './stream-sink.ts';
import { StreamTracker, type StreamKind } from './streams.ts';
import { UpgradeRoutes } from './upgrades.ts';

/** Options of {@link startFakeCluster}. */
export interface FakeClusterOptions {
  /** Name used in default pod names (`web-<name>-1`), node names and messages. A DNS label. Default: `'fake'`. */
  name?: string;
  /**
   * Static bearer tokens, mapped to a user name or to `{ user, groups }`. Every authenticated user
   * also gets the group `system:authenticated`. More can be added with {@link FakeCluster.addToken}.
   * Default: `{}` (no token authenticates).
   */
  tokens?: Record<string, TokenUser>;
  /**
   * Request client certificates during the TLS handshake and authenticate those signed by the
   * fake's CA: CN is the user name, O the groups (as kube-apiserver does). A certificate that does not
   * verify is ignored (the request then needs a token). Default: `false`.
   */
  clientCertificates?: boolean;
  /**
   * Users allowed to impersonate with `Impersonate-User`, `Impersonate-Group`, `Impersonate-Uid` and
   * `Impersonate-Extra-*`; others get 403. Default: users in the group `system:masters`.
   */
  impersonators?: string[];
  /**
   * Also accept OIDC id tokens as bearer tokens, as kube-apiserver with `--oidc-issuer-url` does:
   * a JWT signed by a key of the issuer's JWKS (found through its discovery document), with that
   * `iss`, `aud` equal to `clientId` and an `exp` in the future; the user is the `usernameClaim`
   * (default `sub`). Other tokens get 401. Default: no OIDC.
   *
   * @example
   * ```ts
   * const fake = await startFakeCluster({ oidc: { issuerUrl: 'https://idp.example', clientId: 'kubernetes', groupsClaim: 'groups' } });
   * ```
   */
  oidc?: FakeOidcOptions;
  /**
   * Initial pods. Default: three running pods in namespace `default`: `web-<name>-1` and
   * `web-<name>-2` (label `app=web`) and `worker-<name>-1` (label `app=worker`), each with one
   * container `app` and a few log lines.
   */
  pods?: FakePod[];
  /**
   * How many entries {@link FakeCluster.requests} keeps; the oldest are dropped beyond it, so that
   * long runs (benchmarks) do not grow without bound. Default: 10000.
   */
  requestLogLimit?: number;
  /**
   * How many recent changes (of all kinds) the fake keeps so that watches and paginated lists can
   * resume from a resourceVersion; one older than the window gets 410 Expired, as after etcd
   * compaction ({@link FakeCluster.compact} forgets them all at once). Default: 1000.
   */
  eventWindow?: number;
  /**
   * Offer HTTP/2 by ALPN, as kube-apiserver does (HTTP/1.1 stays available on the same port).
   * `false`: HTTP/1.1 only, as a server behind a load balancer that does not speak HTTP/2.
   * Default `true`.
   */
  http2?: boolean;
  /** Address to listen on (port 0: a free port). Default: `'127.0.0.1'`. */
  host?: string;
  /**
   * Custom exec implementation for `pods/exec`, also running containers' main processes (their
   * `command`, which attach reaches). Call `ctx.builtin()` to fall back to the built-in commands.
   * Default: the built-in commands (see {@link runBuiltinCommand}).
   */
  exec?: ExecHandler;
}

/** One request the fake cluster received, in {@link FakeCluster.requests}. */
export interface FakeRequest {
  /** HTTP method, as received (before the fake treats a POST exec upgrade as GET). */
  readonly method: string;
  /** Path with query string, as received. */
  readonly path: string;
  /** Request headers, lowercased, as received. */
  readonly headers: IncomingHttpHeaders;
  /** The authenticated user name after impersonation; `null` when authentication or impersonation failed. */
  readonly user: string | null;
  /** How the request authenticated; `null` when it did not. */
  readonly authenticatedBy: AuthenticationMethod | null;
  /** Whether the request asked for a protocol upgrade (WebSocket or other). */
  readonly upgrade: boolean;
  /** The HTTP version the request came in: `'2.0'` over HTTP/2 (ALPN `h2`), else `'1.1'` (or `'1.0'`). */
  readonly httpVersion: string;
  /**
   * Which TLS connection the request came on: 1 for the fake's first, counting up (see
   * {@link FakeCluster.connections}). Requests multiplexed over one HTTP/2 connection share it.
   */
  readonly connection: number;
  /** When the request arrived. */
  readonly time: Date;
}

/** A cluster entry pointing at the fake, structurally compatible with the proxy's cluster configuration. */
export interface FakeClusterConfig<Credentials = never> {
  /** The name given to {@link FakeCluster.clusterConfig}. */
  readonly name: string;
  /** The fake's URL. */
  readonly server: string;
  /** The fake's CA certificate (PEM). */
  readonly ca: string;
  /** The credentials given to {@link FakeCluster.clusterConfig}, if any. */
  readonly credentials?: Credentials;
}

/** A running fake Kubernetes API server; see {@link startFakeCluster}. */
export interface FakeCluster extends FakeClusterObjects {
  /** `https://<host>:<port>`. */
  readonly url: string;
  /** The port the fake listens on (chosen by the system). */
  readonly port: number;
  /** PEM of this fake's own CA, which signed its server certificate (for `localhost`, `127.0.0.1`, `::1`). */
  readonly ca: string;
  /** Every request received (up to `requestLogLimit`, most recent last), including failed authentications and upgrades; a live array. */
  readonly requests: readonly FakeRequest[];
  /** Empties {@link FakeCluster.requests}. */
  clearRequests(): void;
  /** How many TLS connections the fake has accepted since it started, HTTP/1.1 and HTTP/2 alike. */
  connections(): number;
  /** Adds (or replaces) a static bearer token. */
  addToken(token: string, user: string, groups?: string[]): void;
  /** Issues a client certificate signed by the fake's CA (only accepted with `clientCertificates: true`). */
  issueClientCertificate(user: string, groups?: string[]): CertificateAndKey;
  /** Adds a pod (emits ADDED to open watches); throws if it already exists or is invalid. */
  addPod(pod: FakePod): void;
  /** Changes a pod (emits MODIFIED); a pod turning Succeeded or Failed ends its followed logs. `ports` replaces what listens on its ports. */
  updatePod(namespace: string, name: string, patch: FakePodPatch): void;
  /**
   * A pod's in-memory files, which `kubectl cp` and the built-in commands read and write; a test
   * can put files there or check what was copied. Throws if the pod does not exist.
   */
  podFiles(namespace: string, name: string): FakeFileSystem;
  /** Deletes a pod (emits DELETED and ends its followed logs). */
  deletePod(namespace: string, name: string): void;
  /** Appends a log line (split on newlines) to a container, default the first, and pushes it to followers. */
  appendLog(namespace: string, pod: string, line: string, container?: string): void;
  /** Sends a BOOKMARK event (with the current resourceVersion) to the watches that allow bookmarks. */
  sendBookmarks(): void;
  /** Number of open streams: watches, followed logs, exec, attach and port-forward sessions; all kinds by default. */
  activeStreams(kind?: StreamKind): number;
  /** `{ name, server, ca }`, for the proxy's cluster list. */
  clusterConfig(name: string): FakeClusterConfig;
  /** `{ name, server, ca, credentials }`, for the proxy's cluster list. */
  clusterConfig<Credentials>(name: string, credentials: Credentials): FakeClusterConfig<Credentials> & { readonly credentials: Credentials };
  /** Stops the server and closes every connection, including open watches, logs and WebSockets. */
  close(): Promise<void>;
  /** {@link FakeCluster.close}, for `await using fake = await startFakeCluster()`: closed even when an assertion throws. */
  [Symbol.asyncDispose](): Promise<void>;
}

function defaultPods(name: string): FakePod[] {
  const web = (index: number): FakePod => ({
    name: `web-${name}-${index}`,
    labels: { app: 'web' },
    containers: [
      {
        name: 'app',
        image: 'nginx:1.27',
        logs: [`[${name}] web-${name}-${index} starting`, 'listening on :8080', 'GET /healthz 200'],
      },
    ],
  });
  return [
    web(1),
    web(2),
    {
      name: `worker-${name}-1`,
      labels: { app: 'worker' },
      containers: [{ name: 'app', image: 'busybox:1.36', logs: [`[${name}] worker started`, 'processed job 1'] }],
    },
  ];
}

function validateOptions(options: FakeClusterOptions): void {
  if (options.name !== undefined && (typeof options.name !== 'string' || !isDnsLabel(options.name))) {
    throw new TypeError(`startFakeCluster(): name must be a DNS label (lowercase alphanumerics and '-'), got ${JSON.stringify(options.name)}`);
  }
  if (options.tokens !== undefined && (typeof options.tokens !== 'object' || options.tokens === null)) {
    throw new TypeError('startFakeCluster(): tokens must be an object mapping tokens to users');
  }
  if (options.impersonators !== undefined && (!Array.isArray(options.impersonators) || !options.impersonators.every((u) => typeof u === 'string'))) {
    throw new TypeError('startFakeCluster(): impersonators must be an array of user names');
  }
  if (options.exec !== undefined && typeof options.exec !== 'function') {
    throw new TypeError('startFakeCluster(): exec must be a function');
  }
  if (options.requestLogLimit !== undefined && !(Number.isInteger(options.requestLogLimit) && options.requestLogLimit >= 0)) {
    throw new TypeError(`startFakeCluster(): requestLogLimit must be a non-negative integer, got ${JSON.stringify(options.requestLogLimit)}`);
  }
  if (options.http2 !== undefined && typeof options.http2 !== 'boolean') throw new TypeError('startFakeCluster(): http2 must be a boolean');
  if (options.host !== undefined && typeof options.host !== 'string') throw new TypeError('startFakeCluster(): host must be a string');
  if (options.eventWindow !== undefined && !(Number.isInteger(options.eventWindow) && options.eventWindow >= 1)) {
    throw new TypeError(`startFakeCluster(): eventWindow must be a positive integer (a number of changes), got ${JSON.stringify(options.eventWindow)}`);
  }
  if (options.oidc !== undefined && !(typeof options.oidc?.issuerUrl === 'string' && URL.canParse(options.oidc.issuerUrl) && typeof options.oidc.clientId === 'string')) {
    throw new TypeError('startFakeCluster(): oidc must have an issuerUrl (a URL) and a clientId');
  }
}

function toStatusError(error: unknown): StatusError {
  if (error instanceof StatusError) return error;
  return new StatusError('InternalError', `Internal error occurred: ${error instanceof Error ? error.message : String(error)}`);
}

// Numbers a TLS connection; read through an HTTP/2 request's socket proxy as well.
const CONNECTION = Symbol('fake-cluster.connection');
type NumberedSocket = Socket & { [CONNECTION]?: number };

/**
 * Starts a fake Kubernetes API server over HTTPS, good enough for `@kubernetes/client-node` and
 * `kubectl`: discovery and OpenAPI, a store of pods, configmaps, secrets, namespaces, deployments,
 * CRDs and custom resources (create, get, list, update, JSON / merge / strategic merge patch,
 * server-side apply, delete, deletecollection, Table output) under one resourceVersion counter,
 * watches with the apiserver's semantics, logs (follow), exec and attach over WebSocket
 * (`v5.channel.k8s.io` down to `channel.k8s.io`) and SPDY/3.1, port-forward (WebSocket tunnel,
 * SPDY/3.1, channel protocol) to per-pod echo or HTTP servers, `kubectl cp` through per-pod file
 * trees, selfsubjectreviews and access reviews, bearer tokens (header or WebSocket subprotocol),
 * client certificates and impersonation.
 *
 * It speaks HTTP/2 and HTTP/1.1 on one port, chosen by ALPN as kube-apiserver does: HTTP/2 clients
 * (client-go, undici with `allowH2`) get HTTP/2, the others, and every upgrade (WebSocket,
 * SPDY/3.1), HTTP/1.1. {@link FakeRequest.httpVersion} and {@link FakeRequest.connection} tell a
 * test which protocol and connection a request used.
 *
 * Every request must authenticate (as with `--anonymous-auth=false`); an authenticated user may do
 * anything unless the test gave it rules ({@link FakeCluster.setRules}). Errors are Kubernetes
 * `Status` objects. Close it with {@link FakeCluster.close}.
 *
 * @example
 * ```ts
 * const fake = await startFakeCluster({ tokens: { 'secret-token': { user: 'alice', groups: ['devs'] } } });
 * // point a client at fake.url with fake.ca and the token, then:
 * fake.addPod({ name: 'api-1', labels: { app: 'api' } });
 * await fake.close();
 * ```
 */
export async function startFakeCluster(options: FakeClusterOptions = {}): Promise<FakeCluster> {
  validateOptions(options);
  const clusterName = options.name ?? 'fake';
  const host = options.host ?? '127.0.0.1';
  const requestLogLimit = options.requestLogLimit ?? 10_000;
  const authority = createCertificateAuthority({ commonName: `${clusterName}-ca` });
  const serverCertificate = authority.issue({
    commonName: 'kube-apiserver',
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default.svc'],
    ipAddresses: ['127.0.0.1', '::1'],
    usage: 'server',
  });
  const authenticator = new Authenticator({
    tokens: options.tokens ?? {},
    impersonators: options.impersonators,
    clientCertificates: options.clientCertificates ?? false,
    oidc: options.oidc && new OidcVerifier(options.oidc),
  });
  const streams = new StreamTracker();
  const state = createClusterState({ nodeName: `${clusterName}-node-1`, eventWindow: options.eventWindow ?? 1000, streams });
  const store = state.pods;
  const requests: FakeRequest[] = [];
  const sockets = new Set<Socket>();
  const runtimes = new PodRuntimes();
  const addPod = (pod: FakePod) => runtimes.define(store.add(pod), pod);
  for (const pod of options.pods ?? defaultPods(clusterName)) addPod(pod);
  // A deleted pod's processes and servers stop, however it was deleted.
  store.subscribe((event) => {
    if (event.type === 'DELETED') runtimes.forget(event.pod.uid);
  });

  const tlsOptions = {
    ...serverCertificate,
    ca: authority.cert,
    requestCert: options.clientCertificates ?? false,
    // Certificates that do not verify are ignored rather than failing the handshake, so that a
    // token can still authenticate and tests get a Status instead of a TLS error.
    rejectUnauthorized: false,
  };
  // HTTP/1.1 clients keep node:http's own request and response objects (allowHTTP1); HTTP/2 clients
  // get the compatibility API, which has what the handlers use (headers, rawHeaders, socket,
  // the body stream, writeHead, write, end) but none of HTTP/1.1's connection headers.
  const server: TlsServer = options.http2 === false ? createHttpsServer(tlsOptions) : createSecureServer({ allowHTTP1: true, ...tlsOptions });

  function record(req: IncomingMessage, upgrade: boolean): { -readonly [K in keyof FakeRequest]: FakeRequest[K] } {
    const entry = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      user: null,
      authenticatedBy: null,
      upgrade,
      httpVersion: req.httpVersion,
      connection: (req.socket as NumberedSocket)[CONNECTION] ?? 0,
      time: new Date(),
    };
    requests.push(entry);
    if (requests.length > requestLogLimit) requests.shift();
    return entry;
  }

  async function authenticate(req: IncomingMessage, upgrade: boolean): Promise<UserInfo> {
    const entry = record(req, upgrade);
    const { user, by } = await authenticator.authenticate(req);
    entry.user = user.username;
    entry.authenticatedBy = by;
    return user;
  }

  const apiContext: ApiContext = {
    store,
    resources: state.resources,
    authorizer: state.authorizer,
    streams,
    serverAddress: () => `${host}:${(server.address() as AddressInfo).port}`,
  };
  const upgrades = new UpgradeRoutes({ api: apiContext, runtimes, exec: options.exec ?? runBuiltinCommand });

  server.on('request', (request: IncomingMessage | Http2ServerRequest, response: ServerResponse | Http2ServerResponse) => {
    // The handlers are typed on node:http; over HTTP/2 they read only what the compatibility API has.
    const req = request as IncomingMessage;
    const res = response as ServerResponse;
    authenticate(req, false).then(
      (user) => serveApiRequest(apiContext, req, httpResponder(res), user).catch((error: unknown) => sendStatus(res, toStatusError(error))),
      (error: unknown) => sendStatus(res, toStatusError(error)),
    );
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const refuse = (error: unknown) => {
      if (socket.writable) rejectUpgrade(socket, toStatusError(error));
    };
    authenticate(req, true)
      .then((user) => {
        // Upgrades are authorized like any request: exec, attach and port-forward included.
        authorizeRequest(apiContext, req, user);
        return upgrades.serve(req, socket, head, user);
      })
      .catch(refuse);
  });

  let connections = 0;
  server.on('secureConnection', (socket: NumberedSocket) => {
    socket[CONNECTION] = ++connections;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', () => {
    // A client that fails the handshake is its own problem; the server keeps serving.
  });
  server.on('clientError', (_error, socket: Duplex) => socket.destroy());

  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;

  function clusterConfig(name: string): FakeClusterConfig;
  function clusterConfig<Credentials>(name: string, credentials: Credentials): FakeClusterConfig<Credentials> & { readonly credentials: Credentials };
  function clusterConfig<Credentials>(name: string, credentials?: Credentials): FakeClusterConfig<Credentials> {
    return credentials === undefined ? { name, server: url, ca: authority.cert } : { name, server: url, ca: authority.cert, credentials };
  }

  const fake: FakeCluster = {
    url,
    port,
    ca: authority.cert,
    requests,
    clearRequests: () => {
      requests.length = 0;
    },
    connections: () => connections,
    addToken: (token, user, groups) => authenticator.addToken(token, user, groups),
    issueClientCertificate: (user, groups = []) => authority.issue({ commonName: user, organizations: groups, usage: 'client' }),
    addPod,
    updatePod: (namespace, name, patch) => {
      const pod = store.update(namespace, name, patch);
      if ('ports' in patch) runtimes.setPorts(pod, patch.ports);
    },
    podFiles: (namespace, name) => {
      const pod = store.get(namespace, name);
      if (!pod) throw new Error(`pod ${namespace}/${name} does not exist`);
      return runtimes.get(pod).files;
    },
    deletePod: (namespace, name) => void store.delete(namespace, name),
    appendLog: (namespace, pod, line, container) => store.appendLog(namespace, pod, line, container),
    sendBookmarks: () => state.objects.bookmark(),
    activeStreams: (kind) => streams.count(kind),
    ...state.api,
    clusterConfig,
    close: () => {
      closing ??= (async () => {
        const closed = once(server, 'close');
        server.close();
        streams.closeAll();
        upgrades.close();
        runtimes.close();
        for (const socket of sockets) socket.destroy();
        await closed;
      })();
      return closing;
    },
    [Symbol.asyncDispose]: () => fake.close(),
  };
  return fake;
}
