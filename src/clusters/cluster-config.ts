/**
 * A cluster's configuration, {@link ClusterConfig}, and its validation. The parts with shapes of
 * their own are validated in their own files: credentials (credentials-config.ts, with
 * exec-config.ts and oidc-config.ts), impersonation (impersonation-config.ts), PEM values
 * (pem-option.ts).
 */
import { isHttpUrl } from '../checks.ts';
import { InvalidOptionError } from '../errors.ts';
import { checkKnownOptions } from '../known-options.ts';
import type { Policy } from '../policy/policy.ts';
import { validateRecordSessions, type RecordSessions } from '../recording/record-sessions.ts';
import { validatePolicy, type CompiledPolicy } from '../policy/validate-policy.ts';
import { clusterNameProblem } from './cluster-name.ts';
import { validateCredentials, type ClusterCredentials } from './credentials-config.ts';
import {
  impersonationHeaders,
  validateImpersonation,
  type Impersonation,
  type ImpersonationConfig,
} from './impersonation-config.ts';
import { checkPem } from './pem-option.ts';

export type { ClusterCredentials, FetchedToken } from './credentials-config.ts';
export type { ExecPluginConfig } from './exec-config.ts';
export type { OidcAuthProviderConfig } from './oidc-config.ts';
export type { Impersonation, ImpersonationConfig } from './impersonation-config.ts';

/**
 * Whose identity reaches the cluster.
 * - `'user'`: the user's bearer token is forwarded; without one the proxy answers `401` and the
 *   cluster is never contacted. The cluster's own credentials are never attached.
 * - `'cluster'`: the cluster's `credentials` are used; the user's token, `Authorization` and every
 *   `Impersonate-*` header from the client are removed.
 * - `'user-then-cluster'`: the user's token when the request carries one, otherwise the cluster's
 *   credentials. Opt-in only.
 * - `'impersonate'`: the user's OIDC token is verified by the proxy (see
 *   {@link ClusterConfig.impersonation}); the cluster's credentials go upstream with
 *   `Impersonate-User`/`Impersonate-Group` from the token's claims. The user's token never does.
 */
export type AuthMode = 'user' | 'cluster' | 'user-then-cluster' | 'impersonate';

/** One Kubernetes cluster the proxy can reach. */
export interface ClusterConfig {
  /** The path segment that selects this cluster: `<mountPath>/<name>/...`. */
  name: string;
  /**
   * The API server's URL, `http:` or `https:`. A path (Rancher's `/k8s/clusters/c-abc`) prefixes
   * every upstream path.
   */
  server: string;
  /** PEM certificate authority (one or more certificates) that signed the server certificate. Default: Node's roots. */
  ca?: string | Buffer;
  /** Server name for SNI and certificate verification, when it differs from the URL's host. */
  tlsServerName?: string;
  /** Skips server certificate verification. Default `false`; a warning is logged once when set. */
  insecureSkipTLSVerify?: boolean;
  /**
   * Reach the cluster over HTTP/2 (offered by ALPN, as client-go does): the requests and watches of
   * a route share one TLS connection instead of one connection per request in flight. The forwarder
   * falls back to HTTP/1.1 when the server does not take it. Upgrades (exec, attach, port-forward)
   * and the proxy's own requests stay on HTTP/1.1; requests with a body take HTTP/2 connections of
   * their own (see docs/clusters.md). Needs `engine: 'undici'`. Default `false`.
   */
  http2?: boolean;
  /** The cluster's own credentials, used by the `'cluster'` and `'user-then-cluster'` modes. */
  credentials?: ClusterCredentials;
  /** Whose identity reaches the cluster. Default: `'cluster'` with `credentials`, else `'user'`. */
  authMode?: AuthMode;
  /**
   * Identity to impersonate with the cluster's own credentials (kubeconfig `as`, `as-groups`,
   * `as-uid`, `as-user-extra`): sent as `Impersonate-*` headers when, and only when, the proxy
   * sends its own credentials. Default: none.
   */
  impersonate?: Impersonation;
  /** Where the cluster came from, for listings (a kubeconfig context's namespace, user, file). Not used for routing. */
  context?: ClusterContextInfo;
  /** How `authMode: 'impersonate'` verifies user tokens and maps their claims. Required by that mode only. */
  impersonation?: ImpersonationConfig;
  /**
   * Which of the `oidcSessions()` providers this cluster trusts, when the proxy has `sessions`.
   * Default `'default'` (the top-level issuer).
   */
  sessionProvider?: string;
  /**
   * What the proxy lets through to this cluster (read-only, deny and allow rules, your own
   * `authorize`), on top of the proxy-wide `policy`: both must allow. Decided before the cluster is
   * contacted, for HTTP and upgrades alike; a denial answers `403`. Default: none.
   */
  policy?: Policy;
  /**
   * `'credential'`: an upgraded connection (exec, attach, port-forward, logs, watch) or an HTTP
   * watch or followed log is closed once the credential it was opened with expires (a JWT's `exp`,
   * an exec plugin's `expirationTimestamp`), half a second after; the client reconnects with a fresh
   * one. Default `'unbounded'`: they last as long as the cluster keeps them.
   */
  upgradeLifetime?: 'credential' | 'unbounded';
  /**
   * Record this cluster's exec and attach sessions over WebSocket as asciicast v2 files, one per
   * session named by its request id, bounded in size (see {@link RecordSessions} and
   * docs/observability.md). Default: not recorded.
   */
  recordSessions?: RecordSessions;
  /**
   * How the proxy learns who an opaque user token is (`authMode` `'user'` or `'user-then-cluster'`),
   * for hook events and policy rules on `users` and `groups`. `'self-subject-review'`: the proxy asks
   * the cluster (`POST /apis/authentication.k8s.io/v1/selfsubjectreviews`, Kubernetes 1.28+, with the
   * user's own token) and keeps the answer for 60 s per token, under a keyed hash of it. A review
   * that fails (no permission, an older cluster, the cluster unreachable) leaves the user unknown
   * and never fails the request. Default `undefined`: the user of an opaque token is unknown and the
   * proxy sends no extra request.
   */
  identify?: 'self-subject-review';
}


/** Descriptive facts about a cluster's origin. */
export interface ClusterContextInfo {
  /** The context's default namespace. */
  namespace?: string;
  /** The kubeconfig user the context refers to. */
  user?: string;
  /** The kubeconfig cluster entry the context refers to. */
  cluster?: string;
  /** The kubeconfig file that defined the context. */
  file?: string;
}

/** A {@link ClusterConfig} checked and completed: what the pipeline works with. */
export interface ValidatedCluster {
  readonly name: string;
  readonly server: URL;
  readonly ca: string | Buffer | undefined;
  readonly tlsServerName: string | undefined;
  readonly insecureSkipTLSVerify: boolean;
  readonly http2: boolean;
  readonly credentials: ClusterCredentials | undefined;
  readonly authMode: AuthMode;
  /** `Impersonate-*` headers to add when the cluster's own credentials are sent. */
  readonly impersonationHeaders: Readonly<Record<string, string | string[]>>;
  /** For `authMode: 'impersonate'`. */
  readonly impersonation: ImpersonationConfig | undefined;
  readonly sessionProvider: string | undefined;
  /** The cluster's own `policy`, compiled. */
  readonly policy: CompiledPolicy | undefined;
  readonly upgradeLifetime: 'credential' | 'unbounded';
  /** `recordSessions`, checked, `maxBytes` filled in. */
  readonly recordSessions: Required<RecordSessions> | undefined;
  readonly identify: 'self-subject-review' | undefined;
}

const AUTH_MODES: readonly AuthMode[] = ['user', 'cluster', 'user-then-cluster', 'impersonate'];

/** Every field of {@link ClusterConfig}: any other name is refused, with a suggestion. */
const CLUSTER_OPTIONS: readonly (keyof ClusterConfig)[] = [
  'name',
  'server',
  'ca',
  'tlsServerName',
  'insecureSkipTLSVerify',
  'http2',
  'credentials',
  'authMode',
  'impersonate',
  'context',
  'impersonation',
  'sessionProvider',
  'policy',
  'upgradeLifetime',
  'recordSessions',
  'identify',
];

/**
 * Parses `server`, saying what to do for the usual mistakes: an unset environment variable, and a
 * host and port without a scheme (`prod.example:6443`, which URL parsing reads as the scheme
 * `prod.example:`).
 */
function parseServer(value: unknown, at: string): URL {
  if (typeof value !== 'string' || value.trim() === '') {
    const got = value === undefined || value === '' ? `${value === '' ? 'an empty string' : 'undefined'} (an unset environment variable?)` : typeof value;
    throw new InvalidOptionError(`${at} must be the API server's URL, e.g. https://prod.example:6443; got ${got}`);
  }
  const text: string = value;
  if (!isHttpUrl(value)) {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
    if (scheme) throw new InvalidOptionError(`${at} must use http: or https:; got ${scheme[1]}:`);
    if (isHttpUrl(`https://${text}`) && !text.includes('@')) {
      throw new InvalidOptionError(`${at} has no scheme: add https:// in front, as in "https://${text}"; got ${JSON.stringify(text)}`);
    }
    throw new InvalidOptionError(`${at} must be an absolute http(s) URL such as https://prod.example:6443; got ${JSON.stringify(text)}`);
  }
  return new URL(text);
}

// A configuration object is validated once, whoever asks first (a resolver at start-up, or the
// proxy at the first request for a dynamic one).
const validated = new WeakMap<ClusterConfig, ValidatedCluster>();

/**
 * Checks a cluster configuration and fills in its defaults, once per configuration object.
 * @param where how the configuration is named in error messages, e.g. `clusters[0]`.
 * @throws {InvalidOptionError} naming the option and the rule it breaks.
 */
export function validateClusterConfig(config: ClusterConfig, where: string): ValidatedCluster {
  if (typeof config !== 'object' || config === null) {
    throw new InvalidOptionError(`${where} must be a cluster configuration object`);
  }
  const known = validated.get(config);
  if (known) return known;
  const result = validateFresh(config, where);
  validated.set(config, result);
  return result;
}

function validateFresh(config: ClusterConfig, where: string): ValidatedCluster {
  if (typeof config.name !== 'string') throw new InvalidOptionError(`${where}.name must be a string`);
  checkKnownOptions(config, CLUSTER_OPTIONS, `${where} ("${config.name}")`);
  const nameProblem = clusterNameProblem(config.name);
  if (nameProblem) throw new InvalidOptionError(`${where}.name ${JSON.stringify(config.name)}: ${nameProblem}`);
  where = `${where} ("${config.name}")`;

  const server = parseServer(config.server, `${where}.server`);
  if (server.username || server.password) {
    throw new InvalidOptionError(`${where}.server must not carry credentials; use ${where}.credentials`);
  }
  if (server.search || server.hash) {
    throw new InvalidOptionError(`${where}.server must not have a query or fragment`);
  }
  if (config.ca !== undefined) checkPem(config.ca, `${where}.ca`);
  if (config.tlsServerName !== undefined && (typeof config.tlsServerName !== 'string' || config.tlsServerName === '')) {
    throw new InvalidOptionError(`${where}.tlsServerName must be a non-empty string`);
  }
  if (config.insecureSkipTLSVerify !== undefined && typeof config.insecureSkipTLSVerify !== 'boolean') {
    throw new InvalidOptionError(`${where}.insecureSkipTLSVerify must be a boolean`);
  }
  if (config.http2 !== undefined && typeof config.http2 !== 'boolean') {
    throw new InvalidOptionError(`${where}.http2 must be a boolean (true to reach the cluster over HTTP/2); got ${JSON.stringify(config.http2)}`);
  }
  if (config.http2 && server.protocol === 'http:') {
    // HTTP/2 is chosen in the TLS handshake (ALPN); a plain-HTTP server would be reached over HTTP/1.1 in silence.
    throw new InvalidOptionError(`${where}.http2 needs an https: server; got ${server.protocol}`);
  }
  if (config.insecureSkipTLSVerify && config.ca !== undefined) {
    // The same rule as kubectl: a CA that is never checked is a configuration mistake.
    throw new InvalidOptionError(`${where}: ca and insecureSkipTLSVerify cannot be used together`);
  }
  const credentials = config.credentials === undefined ? undefined : validateCredentials(config.credentials, where);
  if (config.authMode !== undefined && !AUTH_MODES.includes(config.authMode)) {
    throw new InvalidOptionError(
      `${where}.authMode must be one of ${AUTH_MODES.map((m) => `'${m}'`).join(', ')}; got ${JSON.stringify(config.authMode)}`,
    );
  }
  const authMode = config.authMode ?? (credentials ? 'cluster' : 'user');
  if (authMode !== 'user' && !credentials) {
    throw new InvalidOptionError(
      `${where}.authMode '${authMode}' needs ${where}.credentials (the cluster's own identity); ` +
        `add credentials or use authMode 'user'`,
    );
  }
  if (server.protocol === 'http:' && credentials && 'clientCertificate' in credentials) {
    throw new InvalidOptionError(`${where}.credentials.clientCertificate needs an https: server`);
  }
  const impersonation = authMode === 'impersonate' ? validateImpersonation(config.impersonation, where) : undefined;
  if (authMode !== 'impersonate' && config.impersonation !== undefined) {
    throw new InvalidOptionError(`${where}.impersonation is only used with authMode 'impersonate'`);
  }
  if (authMode === 'impersonate' && config.impersonate !== undefined) {
    throw new InvalidOptionError(`${where}: impersonate (a fixed identity) and authMode 'impersonate' (the user's) cannot be used together`);
  }
  if (config.sessionProvider !== undefined && (typeof config.sessionProvider !== 'string' || config.sessionProvider === '')) {
    throw new InvalidOptionError(`${where}.sessionProvider must be the name of an oidcSessions provider`);
  }
  if (![undefined, 'credential', 'unbounded'].includes(config.upgradeLifetime)) throw new InvalidOptionError(`${where}.upgradeLifetime must be 'credential' or 'unbounded'`);
  if (config.identify !== undefined) {
    if (config.identify !== 'self-subject-review') throw new InvalidOptionError(`${where}.identify must be 'self-subject-review'; got ${JSON.stringify(config.identify)}`);
    if (authMode === 'cluster' || authMode === 'impersonate') {
      throw new InvalidOptionError(`${where}.identify is for the user's own token (authMode 'user' or 'user-then-cluster'); ${authMode === 'cluster' ? "authMode 'cluster' sends no user token" : "authMode 'impersonate' verifies the user's token itself"}`);
    }
  }
  return {
    name: config.name,
    server,
    ca: config.ca,
    tlsServerName: config.tlsServerName,
    insecureSkipTLSVerify: config.insecureSkipTLSVerify ?? false,
    http2: config.http2 ?? false,
    credentials,
    authMode,
    impersonationHeaders: config.impersonate === undefined ? {} : impersonationHeaders(config.impersonate, where),
    impersonation,
    sessionProvider: config.sessionProvider,
    policy: config.policy === undefined ? undefined : validatePolicy(config.policy, `${where}.policy`),
    upgradeLifetime: config.upgradeLifetime ?? 'unbounded',
    recordSessions: config.recordSessions === undefined ? undefined : validateRecordSessions(config.recordSessions, `${where}.recordSessions`),
    identify: config.identify,
  };
}

