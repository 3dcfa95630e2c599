import { InvalidOptionError } from '../errors.ts';
import { checkKnownOptions } from '../known-options.ts';
import type { Policy } from '../policy/policy.ts';
import { validateRecordSessions, type RecordSessions } from '../recording/record-sessions.ts';
import { validatePolicy, type CompiledPolicy } from '../policy/validate-policy.ts';
import { clusterNameProblem } from './cluster-name.ts';

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

/** A token fetched on demand, with the time it stops being valid. */
export interface FetchedToken {
  token: string;
  /** When the token expires. Without it the token is kept until the cluster answers `401`. */
  expiresAt?: Date;
}

/** The cluster's own credentials: exactly one of these shapes. */
export type ClusterCredentials =
  | {
      /** A static bearer token. */
      token: string;
    }
  | {
      /**
       * A file holding a bearer token, re-read at most once a minute (a rotated service-account
       * token is picked up); when a read fails, the last good token is kept.
       */
      tokenFile: string;
    }
  | {
      /** PEM client certificate, presented during the TLS handshake. */
      clientCertificate: string | Buffer;
      /** PEM private key of `clientCertificate`. */
      clientKey: string | Buffer;
    }
  | {
      /**
       * Fetches a token. Results are cached in the proxy's token store until shortly before
       * `expiresAt`; concurrent requests share one call.
       */
      getToken: (context: { cluster: string }) => Promise<FetchedToken>;
    }
  | {
      /** A client-go credential plugin (`aws eks get-token`, `gke-gcloud-auth-plugin`, `kubelogin`). */
      exec: ExecPluginConfig;
    }
  | {
      /** kubectl's OIDC `auth-provider`: an id-token, refreshed with a refresh-token at the issuer. */
      oidc: OidcAuthProviderConfig;
    };

/** A client-go exec credential plugin, as in a kubeconfig user's `exec` section. */
export interface ExecPluginConfig {
  /** `client.authentication.k8s.io/v1` or `client.authentication.k8s.io/v1beta1`. */
  apiVersion: 'client.authentication.k8s.io/v1' | 'client.authentication.k8s.io/v1beta1';
  /** The executable: a path, or a name looked up on `PATH`. */
  command: string;
  /** Arguments. Default none. */
  args?: readonly string[];
  /** Variables added to the proxy's environment for the plugin. Default none. */
  env?: readonly { name: string; value: string }[];
  /** `'Never'` or `'IfAvailable'` (the plugin never gets a terminal here); `'Always'` is refused. Default `'IfAvailable'`. */
  interactiveMode?: 'Never' | 'IfAvailable' | 'Always';
  /** Passes the cluster's server and CA to the plugin in `KUBERNETES_EXEC_INFO`. Default `false`. */
  provideClusterInfo?: boolean;
  /** Shown when the command is not found, e.g. how to install it. */
  installHint?: string;
  /** Milliseconds one run may take before it is killed. Default `30_000`. */
  timeoutMs?: number;
}

/** kubectl's OIDC auth-provider configuration (`auth-provider: { name: oidc, config: ... }`). */
export interface OidcAuthProviderConfig {
  /** `idp-issuer-url`: the issuer, whose discovery document names the token endpoint. */
  issuerUrl: string;
  /** `client-id`. */
  clientId: string;
  /** `client-secret`, for confidential clients. */
  clientSecret?: string;
  /** `id-token`: used while it is valid for more than 10 s. */
  idToken?: string;
  /** `refresh-token`: exchanged for a new id-token when the id-token is missing or expiring. */
  refreshToken?: string;
  /** `idp-certificate-authority(-data)`: PEM CA for the TLS connection to the issuer. Default: Node's roots. */
  issuerCa?: string | Buffer;
}

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
  /** Record this cluster's exec and attach sessions over WebSocket as asciicast v2 files. Default: not recorded. */
  recordSessions?: RecordSessions;
}

/** Verification of user tokens and claim mapping for `authMode: 'impersonate'`. */
export interface ImpersonationConfig {
  /** The OIDC issuer: `iss` must match; its JWKS (from discovery) is fetched and cached. Required. */
  issuer: string;
  /** The `aud` the tokens must carry (your client id). Required. */
  audience: string | readonly string[];
  /** The claim that names the user. Default `'sub'`. */
  usernameClaim?: string;
  /** Put before the user name, e.g. `'oidc:'`. Default `''`. */
  usernamePrefix?: string;
  /** The claim with the groups (a string or an array of strings). Default `'groups'`. */
  groupsClaim?: string;
  /** Put before each group. Default `''`. */
  groupsPrefix?: string;
  /** PEM CA for the issuer's TLS, besides Node's roots. */
  issuerCa?: string | Buffer;
  /** Tolerated clock skew for `exp`/`nbf`, in seconds. Default `30`. */
  clockToleranceSeconds?: number;
}

/** An identity to impersonate. */
export interface Impersonation {
  user?: string;
  groups?: readonly string[];
  uid?: string;
  extra?: Readonly<Record<string, readonly string[]>>;
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
  readonly credentials: ClusterCredentials | undefined;
  readonly authMode: AuthMode;
  /** `Impersonate-*` headers to add when the cluster's own credentials are sent. */
  readonly impersonationHeaders: Readonly<Record<string, string | string[]>>;
  /** For `authMode: 'impersonate'`. */
  readonly impersonation: ImpersonationConfig | undefined;
  readonly sessionProvider: string | undefined;
  /** The cluster's own `policy`, compiled. */
  readonly policy: CompiledPolicy | undefined;
  /** `recordSessions`, checked, `maxBytes` filled in. */
  readonly recordSessions: Required<RecordSessions> | undefined;
}

const AUTH_MODES: readonly AuthMode[] = ['user', 'cluster', 'user-then-cluster', 'impersonate'];

function validateImpersonation(config: unknown, where: string): ImpersonationConfig {
  const at = `${where}.impersonation`;
  if (typeof config !== 'object' || config === null) {
    throw new InvalidOptionError(`${at} is required by authMode 'impersonate': { issuer, audience, usernameClaim?, groupsClaim?, ... }`);
  }
  const c = config as Record<string, unknown>;
  checkKnownOptions(
    config as ImpersonationConfig,
    ['issuer', 'audience', 'usernameClaim', 'usernamePrefix', 'groupsClaim', 'groupsPrefix', 'issuerCa', 'clockToleranceSeconds'],
    at,
  );
  if (typeof c.issuer !== 'string' || !URL.canParse(c.issuer) || !/^https?:$/.test(new URL(c.issuer).protocol)) {
    throw new InvalidOptionError(`${at}.issuer must be an http(s) URL; got ${JSON.stringify(c.issuer)}`);
  }
  const audience = c.audience;
  if (!(typeof audience === 'string' && audience !== '') && !(Array.isArray(audience) && audience.length > 0 && audience.every((a) => typeof a === 'string' && a !== ''))) {
    throw new InvalidOptionError(`${at}.audience must be a non-empty string or array of strings (your client id)`);
  }
  for (const key of ['usernameClaim', 'usernamePrefix', 'groupsClaim', 'groupsPrefix'] as const) {
    if (c[key] !== undefined && typeof c[key] !== 'string') throw new InvalidOptionError(`${at}.${key} must be a string`);
  }
  if (c.issuerCa !== undefined && !isPem(c.issuerCa)) throw new InvalidOptionError(`${at}.issuerCa must be a PEM string or Buffer`);
  if (c.clockToleranceSeconds !== undefined && !(typeof c.clockToleranceSeconds === 'number' && c.clockToleranceSeconds >= 0)) {
    throw new InvalidOptionError(`${at}.clockToleranceSeconds must be a non-negative number`);
  }
  return config as ImpersonationConfig;
}
const CREDENTIAL_SHAPES = ['token', 'tokenFile', 'clientCertificate/clientKey', 'getToken', 'exec', 'oidc'] as const;
const EXEC_API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'];

function validateExec(exec: unknown, where: string): ExecPluginConfig {
  const at = `${where}.credentials.exec`;
  if (typeof exec !== 'object' || exec === null) throw new InvalidOptionError(`${at} must be an object`);
  const e = exec as Record<string, unknown>;
  checkKnownOptions(exec as ExecPluginConfig, ['apiVersion', 'command', 'args', 'env', 'interactiveMode', 'provideClusterInfo', 'installHint', 'timeoutMs'], at);
  if (typeof e.apiVersion !== 'string' || !EXEC_API_VERSIONS.includes(e.apiVersion)) {
    throw new InvalidOptionError(`${at}.apiVersion must be one of ${EXEC_API_VERSIONS.join(', ')}; got ${JSON.stringify(e.apiVersion)}`);
  }
  if (typeof e.command !== 'string' || e.command.trim() === '') throw new InvalidOptionError(`${at}.command must be a non-empty string`);
  if (e.args !== undefined && !(Array.isArray(e.args) && e.args.every((a) => typeof a === 'string'))) {
    throw new InvalidOptionError(`${at}.args must be an array of strings`);
  }
  if (
    e.env !== undefined &&
    !(Array.isArray(e.env) && e.env.every((v: unknown) => typeof (v as { name?: unknown })?.name === 'string' && (v as { name: string }).name !== '' && typeof (v as { value?: unknown }).value === 'string'))
  ) {
    throw new InvalidOptionError(`${at}.env must be an array of { name, value } strings`);
  }
  if (e.interactiveMode !== undefined && !['Never', 'IfAvailable', 'Always'].includes(e.interactiveMode as string)) {
    throw new InvalidOptionError(`${at}.interactiveMode must be Never, IfAvailable or Always; got ${JSON.stringify(e.interactiveMode)}`);
  }
  if (e.interactiveMode === 'Always') {
    throw new InvalidOptionError(`${at}.interactiveMode is Always: the plugin needs a terminal, and a server has none; use a non-interactive login`);
  }
  if (e.provideClusterInfo !== undefined && typeof e.provideClusterInfo !== 'boolean') {
    throw new InvalidOptionError(`${at}.provideClusterInfo must be a boolean`);
  }
  if (e.installHint !== undefined && typeof e.installHint !== 'string') throw new InvalidOptionError(`${at}.installHint must be a string`);
  if (e.timeoutMs !== undefined && !(typeof e.timeoutMs === 'number' && e.timeoutMs > 0)) {
    throw new InvalidOptionError(`${at}.timeoutMs must be a positive number of milliseconds`);
  }
  return exec as ExecPluginConfig;
}

function validateOidc(oidc: unknown, where: string): OidcAuthProviderConfig {
  const at = `${where}.credentials.oidc`;
  if (typeof oidc !== 'object' || oidc === null) throw new InvalidOptionError(`${at} must be an object`);
  const o = oidc as Record<string, unknown>;
  checkKnownOptions(oidc as OidcAuthProviderConfig, ['issuerUrl', 'clientId', 'clientSecret', 'idToken', 'refreshToken', 'issuerCa'], at);
  let issuer: URL | undefined;
  try {
    issuer = typeof o.issuerUrl === 'string' ? new URL(o.issuerUrl) : undefined;
  } catch {
    issuer = undefined;
  }
  if (!issuer || (issuer.protocol !== 'https:' && issuer.protocol !== 'http:')) {
    throw new InvalidOptionError(`${at}.issuerUrl (idp-issuer-url) must be an http(s) URL; got ${JSON.stringify(o.issuerUrl)}`);
  }
  if (typeof o.clientId !== 'string' || o.clientId === '') throw new InvalidOptionError(`${at}.clientId (client-id) must be a non-empty string`);
  for (const key of ['clientSecret', 'idToken', 'refreshToken'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'string') throw new InvalidOptionError(`${at}.${key} must be a string`);
  }
  if (o.issuerCa !== undefined && !isPem(o.issuerCa)) throw new InvalidOptionError(`${at}.issuerCa must be a PEM string or Buffer`);
  return oidc as OidcAuthProviderConfig;
}

function isPem(value: unknown): value is string | Buffer {
  return (typeof value === 'string' || Buffer.isBuffer(value)) && value.toString().includes('-----BEGIN ');
}

function validateCredentials(credentials: unknown, where: string): ClusterCredentials {
  if (typeof credentials !== 'object' || credentials === null) {
    throw new InvalidOptionError(`${where}.credentials must be an object`);
  }
  const given = Object.keys(credentials).filter(
    (key) => (credentials as Record<string, unknown>)[key] !== undefined,
  );
  const c = credentials as Record<string, unknown>;
  const shape = `one of ${CREDENTIAL_SHAPES.map((s) => `{ ${s} }`).join(', ')}`;
  const only = (...keys: string[]) => given.length === keys.length && keys.every((k) => given.includes(k));
  if (only('token')) {
    if (typeof c.token !== 'string' || c.token.trim() === '' || /\s/.test(c.token.trim())) {
      throw new InvalidOptionError(`${where}.credentials.token must be a non-empty string without spaces`);
    }
    return { token: c.token.trim() };
  }
  if (only('tokenFile')) {
    if (typeof c.tokenFile !== 'string' || c.tokenFile === '') {
      throw new InvalidOptionError(`${where}.credentials.tokenFile must be a file path`);
    }
    return { tokenFile: c.tokenFile };
  }
  if (only('clientCertificate', 'clientKey')) {
    if (!isPem(c.clientCertificate)) {
      throw new InvalidOptionError(`${where}.credentials.clientCertificate must be a PEM string or Buffer`);
    }
    if (!isPem(c.clientKey)) {
      throw new InvalidOptionError(`${where}.credentials.clientKey must be a PEM string or Buffer`);
    }
    return { clientCertificate: c.clientCertificate, clientKey: c.clientKey };
  }
  if (only('getToken')) {
    if (typeof c.getToken !== 'function') {
      throw new InvalidOptionError(`${where}.credentials.getToken must be a function`);
    }
    return { getToken: c.getToken as (context: { cluster: string }) => Promise<FetchedToken> };
  }
  if (only('exec')) return { exec: validateExec(c.exec, where) };
  if (only('oidc')) return { oidc: validateOidc(c.oidc, where) };
  throw new InvalidOptionError(
    `${where}.credentials must be ${shape}; got { ${given.join(', ')} }`,
  );
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
  checkKnownOptions(
    config,
    ['name', 'server', 'ca', 'tlsServerName', 'insecureSkipTLSVerify', 'credentials', 'authMode', 'impersonate', 'context', 'impersonation', 'sessionProvider', 'policy', 'recordSessions'],
    `${where} ("${config.name}")`,
  );
  const nameProblem = clusterNameProblem(config.name);
  if (nameProblem) throw new InvalidOptionError(`${where}.name ${JSON.stringify(config.name)}: ${nameProblem}`);
  where = `${where} ("${config.name}")`;

  let server: URL;
  try {
    server = new URL(config.server);
  } catch {
    throw new InvalidOptionError(`${where}.server must be an absolute http(s) URL; got ${JSON.stringify(config.server)}`);
  }
  if (server.protocol !== 'https:' && server.protocol !== 'http:') {
    throw new InvalidOptionError(`${where}.server must use http: or https:; got ${server.protocol}`);
  }
  if (server.username || server.password) {
    throw new InvalidOptionError(`${where}.server must not carry credentials; use ${where}.credentials`);
  }
  if (server.search || server.hash) {
    throw new InvalidOptionError(`${where}.server must not have a query or fragment`);
  }
  if (config.ca !== undefined && !isPem(config.ca)) {
    throw new InvalidOptionError(`${where}.ca must be a PEM string or Buffer`);
  }
  if (config.tlsServerName !== undefined && (typeof config.tlsServerName !== 'string' || config.tlsServerName === '')) {
    throw new InvalidOptionError(`${where}.tlsServerName must be a non-empty string`);
  }
  if (config.insecureSkipTLSVerify !== undefined && typeof config.insecureSkipTLSVerify !== 'boolean') {
    throw new InvalidOptionError(`${where}.insecureSkipTLSVerify must be a boolean`);
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
  return {
    name: config.name,
    server,
    ca: config.ca,
    tlsServerName: config.tlsServerName,
    insecureSkipTLSVerify: config.insecureSkipTLSVerify ?? false,
    credentials,
    authMode,
    impersonationHeaders: config.impersonate === undefined ? {} : impersonationHeaders(config.impersonate, where),
    impersonation,
    sessionProvider: config.sessionProvider,
    policy: config.policy === undefined ? undefined : validatePolicy(config.policy, `${where}.policy`),
    recordSessions: config.recordSessions === undefined ? undefined : validateRecordSessions(config.recordSessions, `${where}.recordSessions`),
  };
}

const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** The `Impersonate-*` headers for an identity, as client-go builds them. */
function impersonationHeaders(impersonate: Impersonation, where: string): Record<string, string | string[]> {
  const at = `${where}.impersonate`;
  if (typeof impersonate !== 'object' || impersonate === null) throw new InvalidOptionError(`${at} must be an object`);
  checkKnownOptions(impersonate, ['user', 'groups', 'uid', 'extra'], at);
  const text = (value: unknown, name: string): string => {
    if (typeof value !== 'string' || value === '' || !HEADER_VALUE.test(value)) {
      throw new InvalidOptionError(`${at}.${name} must be a non-empty string that fits in a header`);
    }
    return value;
  };
  const headers: Record<string, string | string[]> = {};
  const { user, groups, uid, extra } = impersonate;
  if (user !== undefined) headers['impersonate-user'] = text(user, 'user');
  if (groups !== undefined) {
    if (!Array.isArray(groups)) throw new InvalidOptionError(`${at}.groups must be an array of strings`);
    if (groups.length > 0) headers['impersonate-group'] = groups.map((g, i) => text(g, `groups[${i}]`));
  }
  if (uid !== undefined) headers['impersonate-uid'] = text(uid, 'uid');
  for (const [key, values] of Object.entries(extra ?? {})) {
    // eslint-disable-next-line no-control-regex -- a key becomes part of a header name
    if (key === '' || /[\s\x00-\x1f\x7f]/.test(key)) {
      throw new InvalidOptionError(`${at}.extra key ${JSON.stringify(key)} is not valid`);
    }
    if (!Array.isArray(values)) throw new InvalidOptionError(`${at}.extra.${key} must be an array of strings`);
    // Keys are percent-encoded in the header name, as client-go does.
    headers[`impersonate-extra-${encodeURIComponent(key).toLowerCase()}`] = values.map((v, i) => text(v, `extra.${key}[${i}]`));
  }
  if (Object.keys(headers).length > 0 && headers['impersonate-user'] === undefined && headers['impersonate-uid'] === undefined) {
    throw new InvalidOptionError(`${at} needs a user: the API server refuses groups or extra without a user to impersonate`);
  }
  return headers;
}
