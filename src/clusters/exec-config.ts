import { InvalidOptionError } from '../errors.ts';
import { checkKnownOptions } from '../known-options.ts';

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


const EXEC_API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'];

/**
 * Checks `credentials.exec`.
 * @throws {InvalidOptionError} naming the field and the rule it breaks.
 */
export function validateExec(exec: unknown, where: string): ExecPluginConfig {
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
