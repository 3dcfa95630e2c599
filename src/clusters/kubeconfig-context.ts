import { readFileSync } from 'node:fs';
import { KubeconfigError } from '../errors.ts';
import type { AuthMode, ClusterConfig, ClusterCredentials, ExecPluginConfig, Impersonation } from './cluster-config.ts';
import { resolvePath, type KubeconfigEntry, type MergedKubeconfig } from './kubeconfig-file.ts';

/** How a context becomes a cluster. */
export interface ContextConversion {
  /** The cluster name (the context name, or its rename). */
  name: string;
  /** The `authMode` for a context whose user has credentials. Default `'cluster'`. */
  authMode?: AuthMode;
  /** An explicit `authMode` for this context, whatever its credentials. */
  authModeOverride?: AuthMode;
}

/** Reads fields of one kubeconfig entry, with errors naming the context, the file and the field. */
function reader(entry: KubeconfigEntry, context: string) {
  const fail = (field: string, problem: string): never => {
    throw new KubeconfigError(`kubeconfig ${entry.file}: context "${context}": ${entry.at}.${field} ${problem}`, {
      file: entry.file,
      cluster: context,
    });
  };
  const value = (field: string): unknown => entry.body[field];
  const string = (field: string): string | undefined => {
    const v = value(field);
    if (v === undefined || v === null || v === '') return undefined;
    return typeof v === 'string' ? v : fail(field, 'must be a string');
  };
  const boolean = (field: string): boolean | undefined => {
    const v = value(field);
    if (v === undefined || v === null) return undefined;
    return typeof v === 'boolean' ? v : fail(field, 'must be true or false');
  };
  const strings = (field: string): string[] | undefined => {
    const v = value(field);
    if (v === undefined || v === null) return undefined;
    return Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v) : fail(field, 'must be a list of strings');
  };
  /** PEM from `<field>-data` (base64) or `<field>` (a file), whichever is set; `-data` wins, as in kubectl. */
  const pem = (field: string): Buffer | undefined => {
    const data = string(`${field}-data`);
    if (data !== undefined) {
      const decoded = Buffer.from(data, 'base64');
      if (!/^[A-Za-z0-9+/=\s]+$/.test(data) || !decoded.toString('latin1').includes('-----BEGIN ')) {
        return fail(`${field}-data`, 'must be base64-encoded PEM');
      }
      return decoded;
    }
    const path = string(field);
    if (path === undefined) return undefined;
    const file = resolvePath(path, entry);
    try {
      return readFileSync(file);
    } catch (error) {
      return fail(field, `names ${file}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  };
  return { fail, value, string, boolean, strings, pem };
}

function execConfig(entry: KubeconfigEntry, exec: unknown, context: string): ExecPluginConfig {
  const r = reader({ ...entry, body: exec as Record<string, unknown>, at: `${entry.at}.exec` }, context);
  if (typeof exec !== 'object' || exec === null) r.fail('', 'must be a mapping');
  const apiVersion = r.string('apiVersion') ?? r.fail('apiVersion', 'is required');
  if (apiVersion !== 'client.authentication.k8s.io/v1' && apiVersion !== 'client.authentication.k8s.io/v1beta1') {
    r.fail('apiVersion', `must be client.authentication.k8s.io/v1 or /v1beta1; got ${apiVersion}`);
  }
  let command = r.string('command') ?? r.fail('command', 'is required');
  // As kubectl does: a relative command with a path separator is relative to the kubeconfig's folder.
  if (command.includes('/')) command = resolvePath(command, entry);
  const envList = r.value('env');
  if (envList !== undefined && envList !== null && !(Array.isArray(envList) && envList.every((e: unknown) => typeof (e as { name?: unknown })?.name === 'string' && typeof (e as { value?: unknown }).value === 'string'))) {
    r.fail('env', 'must be a list of { name, value } strings');
  }
  const interactiveMode = r.string('interactiveMode');
  if (apiVersion.endsWith('/v1') && interactiveMode === undefined) {
    r.fail('interactiveMode', 'is required with client.authentication.k8s.io/v1 (use Never or IfAvailable)');
  }
  if (interactiveMode !== undefined && !['Never', 'IfAvailable', 'Always'].includes(interactiveMode)) {
    r.fail('interactiveMode', `must be Never, IfAvailable or Always; got ${interactiveMode}`);
  }
  if (interactiveMode === 'Always') {
    r.fail('interactiveMode', 'is Always: the plugin needs a terminal, and a server has none; use a non-interactive login');
  }
  const installHint = r.string('installHint');
  const provideClusterInfo = r.boolean('provideClusterInfo');
  const args = r.strings('args');
  return {
    apiVersion: apiVersion as ExecPluginConfig['apiVersion'],
    command,
    ...(args ? { args } : {}),
    ...(Array.isArray(envList) ? { env: envList as { name: string; value: string }[] } : {}),
    ...(interactiveMode ? { interactiveMode: interactiveMode as 'Never' | 'IfAvailable' } : {}),
    ...(provideClusterInfo !== undefined ? { provideClusterInfo } : {}),
    ...(installHint ? { installHint } : {}),
  };
}

function credentialsOf(user: KubeconfigEntry, context: string): ClusterCredentials | undefined {
  const r = reader(user, context);
  if (r.string('username') !== undefined || r.string('password') !== undefined) {
    r.fail('username', 'and password (basic authentication) were removed from Kubernetes in 1.19: use a token, a client certificate or an exec plugin');
  }
  const token = r.string('token');
  const tokenFile = r.string('tokenFile');
  const cert = r.pem('client-certificate');
  const key = r.pem('client-key');
  const exec = r.value('exec');
  const provider = r.value('auth-provider');
  if (cert !== undefined && key === undefined) r.fail('client-key', 'is missing: client-certificate needs its key');
  if (key !== undefined && cert === undefined) r.fail('client-certificate', 'is missing: client-key needs its certificate');
  const plugins = [exec, provider].filter((x) => x !== undefined && x !== null).length;
  if (plugins > 1) r.fail('exec', 'and auth-provider cannot be used together');
  if (plugins > 0 && (token !== undefined || tokenFile !== undefined || cert !== undefined)) {
    r.fail(exec ? 'exec' : 'auth-provider', 'cannot be combined with token, tokenFile or a client certificate');
  }
  // The API server authenticates a client certificate before a token, so the certificate is the identity.
  if (cert !== undefined && key !== undefined) return { clientCertificate: cert, clientKey: key };
  if (tokenFile !== undefined) return { tokenFile: resolvePath(tokenFile, user) };
  if (token !== undefined) return { token };
  if (exec !== undefined && exec !== null) return { exec: execConfig(user, exec, context) };
  if (provider !== undefined && provider !== null) {
    const p = reader({ ...user, body: provider as Record<string, unknown>, at: `${user.at}.auth-provider` }, context);
    if (typeof provider !== 'object') p.fail('', 'must be a mapping');
    const name = p.string('name');
    if (name !== 'oidc') {
      p.fail('name', `${JSON.stringify(name ?? null)} is not supported: only oidc is; gcp and azure were removed from kubectl (use gke-gcloud-auth-plugin or kubelogin as an exec plugin)`);
    }
    const config = p.value('config');
    if (typeof config !== 'object' || config === null) p.fail('config', 'must be a mapping');
    const c = reader({ ...user, body: config as Record<string, unknown>, at: `${user.at}.auth-provider.config` }, context);
    const issuerUrl = c.string('idp-issuer-url') ?? c.fail('idp-issuer-url', 'is required');
    const clientId = c.string('client-id') ?? c.fail('client-id', 'is required');
    const issuerCa = c.pem('idp-certificate-authority');
    const optional = { clientSecret: c.string('client-secret'), idToken: c.string('id-token'), refreshToken: c.string('refresh-token') };
    return {
      oidc: {
        issuerUrl,
        clientId,
        ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
        ...(issuerCa ? { issuerCa } : {}),
      },
    };
  }
  return undefined;
}

function impersonationOf(user: KubeconfigEntry, context: string): Impersonation | undefined {
  const r = reader(user, context);
  const as = r.string('as');
  const groups = r.strings('as-groups');
  const uid = r.string('as-uid');
  const extraValue = r.value('as-user-extra');
  if (extraValue !== undefined && extraValue !== null) {
    const ok = typeof extraValue === 'object' && !Array.isArray(extraValue) && Object.values(extraValue).every((v) => Array.isArray(v) && v.every((s) => typeof s === 'string'));
    if (!ok) r.fail('as-user-extra', 'must map keys to lists of strings');
  }
  if (as === undefined && groups === undefined && uid === undefined && extraValue == null) return undefined;
  return {
    ...(as !== undefined ? { user: as } : {}),
    ...(groups ? { groups } : {}),
    ...(uid !== undefined ? { uid } : {}),
    ...(extraValue ? { extra: extraValue as Record<string, string[]> } : {}),
  };
}

/**
 * Turns one kubeconfig context into a cluster configuration.
 * @throws {KubeconfigError} naming the context, the file and the field at fault.
 */
export function contextToCluster(context: KubeconfigEntry, merged: MergedKubeconfig, conversion: ContextConversion): ClusterConfig {
  const r = reader(context, context.name);
  const clusterName = r.string('cluster') ?? r.fail('cluster', 'is required');
  const clusterEntry = merged.clusters.get(clusterName) ?? r.fail('cluster', `refers to cluster "${clusterName}", which no kubeconfig file defines`);
  const userName = r.string('user');
  const userEntry = userName === undefined ? undefined : (merged.users.get(userName) ?? r.fail('user', `refers to user "${userName}", which no kubeconfig file defines`));
  const namespace = r.string('namespace');

  const c = reader(clusterEntry, context.name);
  const server = c.string('server') ?? c.fail('server', 'is required');
  if (c.string('proxy-url') !== undefined) {
    c.fail('proxy-url', 'is not supported: the proxy connects to the API server directly');
  }
  const ca = c.pem('certificate-authority');
  const insecure = c.boolean('insecure-skip-tls-verify');
  const tlsServerName = c.string('tls-server-name');

  const credentials = userEntry ? credentialsOf(userEntry, context.name) : undefined;
  const impersonate = userEntry ? impersonationOf(userEntry, context.name) : undefined;
  let authMode: AuthMode = credentials ? (conversion.authMode ?? 'cluster') : 'user';
  if (conversion.authModeOverride) {
    if (conversion.authModeOverride !== 'user' && !credentials) {
      throw new KubeconfigError(
        `kubeconfig ${context.file}: context "${context.name}": authMode '${conversion.authModeOverride}' needs credentials, and its user ${userName === undefined ? '(none)' : `"${userName}"`} has none`,
        { file: context.file, cluster: context.name },
      );
    }
    authMode = conversion.authModeOverride;
  }
  return {
    name: conversion.name,
    server,
    ...(ca ? { ca } : {}),
    ...(insecure ? { insecureSkipTLSVerify: true } : {}),
    ...(tlsServerName ? { tlsServerName } : {}),
    ...(credentials ? { credentials } : {}),
    authMode,
    ...(impersonate ? { impersonate } : {}),
    context: {
      file: context.file,
      cluster: clusterName,
      ...(userName !== undefined ? { user: userName } : {}),
      ...(namespace !== undefined ? { namespace } : {}),
    },
  };
}
