import type { ExecPluginConfig, ValidatedCluster } from '../clusters/cluster-config.ts';

/** What a plugin's `ExecCredential` output grants. */
export interface ExecCredentialResult {
  token?: string;
  certificate?: { cert: string; key: string };
  /** `status.expirationTimestamp`; without it the credential is kept until the cluster answers `401`. */
  expiresAt?: Date;
}

/**
 * The plugin's input, for `KUBERNETES_EXEC_INFO`: an `ExecCredential` with an empty status, as
 * client-go writes it. `interactive` is always `false`: the plugin never gets a terminal.
 */
export function execCredentialInput(cluster: ValidatedCluster, config: ExecPluginConfig): string {
  const spec: Record<string, unknown> = { interactive: false };
  if (config.provideClusterInfo) {
    // client-go's field names (clientauthentication Cluster); the zero values are omitted as there.
    const info: Record<string, unknown> = { server: serverOf(cluster.server) };
    if (cluster.tlsServerName !== undefined) info['tls-server-name'] = cluster.tlsServerName;
    if (cluster.insecureSkipTLSVerify) info['insecure-skip-tls-verify'] = true;
    if (cluster.ca !== undefined) info['certificate-authority-data'] = Buffer.from(cluster.ca).toString('base64');
    spec.cluster = info;
  }
  return JSON.stringify({ kind: 'ExecCredential', apiVersion: config.apiVersion, spec });
}

// `new URL('https://host:6443').href` gains a slash the kubeconfig did not have.
function serverOf(server: URL): string {
  return server.pathname === '/' ? server.href.slice(0, -1) : server.href;
}

/** A plugin's output broke a rule; the message names the rule and never quotes a credential. */
export class InvalidExecCredentialError extends Error {
  constructor(rule: string) {
    super(rule);
    this.name = 'InvalidExecCredentialError';
  }
}

const RFC_3339 = /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
const PEM = /-----BEGIN [A-Z0-9 ]+-----/;
// A wrong apiVersion or kind is quoted only when shaped like one (`client.authentication.k8s.io/v1`,
// `ExecCredential`): anything else in its place could be a token.
const API_VERSION_SHAPE = /^([a-z0-9-]{1,63}(\.[a-z0-9-]{1,63})*\/)?v\d+((alpha|beta)\d+)?$/;
const KIND_SHAPE = /^[A-Z][A-Za-z]{0,62}$/;

function isRfc3339(value: string): boolean {
  const match = RFC_3339.exec(value);
  if (!match) return false;
  // Date rolls February 31 over into March; Go's time.Parse, like the RFC, refuses it.
  const [year, month, day] = [match[1], match[2], match[3]].map(Number) as [number, number, number];
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function quote(value: unknown, shape: RegExp): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'string') return shape.test(value) ? JSON.stringify(value) : 'a string that is not shown';
  return `a ${describeType(value)}`;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

function optionalString(status: Record<string, unknown>, field: string): string | undefined {
  const value = status[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new InvalidExecCredentialError(`status.${field} must be a string; got ${describeType(value)}`);
  return value;
}

/**
 * Checks a plugin's stdout the way client-go does and extracts the credential.
 * @throws {InvalidExecCredentialError} naming the broken rule.
 */
export function parseExecCredential(stdout: string, apiVersion: ExecPluginConfig['apiVersion']): ExecCredentialResult {
  if (stdout.trim() === '') throw new InvalidExecCredentialError('the output is empty; expected an ExecCredential JSON object');
  let output: unknown;
  try {
    output = JSON.parse(stdout);
  } catch {
    // JSON.parse's message quotes the input, which may hold a token: it is not passed on.
    throw new InvalidExecCredentialError('the output is not JSON; expected an ExecCredential JSON object');
  }
  if (typeof output !== 'object' || output === null || Array.isArray(output)) {
    throw new InvalidExecCredentialError(`the output is a JSON ${describeType(output)}, not an ExecCredential object`);
  }
  const credential = output as Record<string, unknown>;
  if (credential.apiVersion !== apiVersion) {
    throw new InvalidExecCredentialError(`apiVersion is ${quote(credential.apiVersion, API_VERSION_SHAPE)}; the plugin is configured for "${apiVersion}"`);
  }
  if (credential.kind !== 'ExecCredential') {
    throw new InvalidExecCredentialError(`kind is ${quote(credential.kind, KIND_SHAPE)}; expected "ExecCredential"`);
  }
  const status = credential.status;
  if (typeof status !== 'object' || status === null || Array.isArray(status)) {
    throw new InvalidExecCredentialError(status === undefined ? 'status is missing' : `status must be an object; got ${describeType(status)}`);
  }
  const fields = status as Record<string, unknown>;
  const token = optionalString(fields, 'token');
  const cert = optionalString(fields, 'clientCertificateData');
  const key = optionalString(fields, 'clientKeyData');
  const expirationTimestamp = optionalString(fields, 'expirationTimestamp');

  if (token === undefined && cert === undefined && key === undefined) {
    throw new InvalidExecCredentialError('status has neither a token nor clientCertificateData and clientKeyData');
  }
  if (token !== undefined && /[\s\p{Cc}]/u.test(token)) {
    throw new InvalidExecCredentialError('status.token contains whitespace or control characters');
  }
  if ((cert === undefined) !== (key === undefined)) {
    throw new InvalidExecCredentialError(
      cert === undefined ? 'status.clientKeyData is set without status.clientCertificateData' : 'status.clientCertificateData is set without status.clientKeyData',
    );
  }
  if (cert !== undefined && !PEM.test(cert)) throw new InvalidExecCredentialError('status.clientCertificateData is not PEM');
  if (key !== undefined && !PEM.test(key)) throw new InvalidExecCredentialError('status.clientKeyData is not PEM');

  let expiresAt: Date | undefined;
  if (expirationTimestamp !== undefined) {
    if (!isRfc3339(expirationTimestamp)) throw new InvalidExecCredentialError('status.expirationTimestamp is not an RFC 3339 time');
    expiresAt = new Date(expirationTimestamp.toUpperCase());
  }
  return {
    ...(token !== undefined && { token }),
    ...(cert !== undefined && key !== undefined && { certificate: { cert, key } }),
    ...(expiresAt && { expiresAt }),
  };
}
