import type { ExecPluginConfig, FetchedToken, ValidatedCluster } from '../clusters/cluster-config.ts';
import { ClusterProxyError, CredentialsUnavailableError } from '../errors.ts';
import { describeError } from '../redact.ts';
import { reportedFetch, type CredentialDependencies, type CredentialSource, type ObtainedCredential } from './credential-source.ts';
import { execCredentialInput, InvalidExecCredentialError, parseExecCredential } from './exec-credential.ts';
import { ExecRunError, runExecPlugin } from './exec-process.ts';

const DEFAULT_TIMEOUT_MS = 30_000;

/** How a credential is kept in the token cache, whose values are strings. */
interface StoredCredential {
  token?: string;
  cert?: string;
  key?: string;
  /** `expirationTimestamp` in milliseconds since the epoch, for `upgradeLifetime: 'credential'`. */
  expiresAt?: number;
}

/**
 * Runs a client-go exec credential plugin (`aws eks get-token`, `gke-gcloud-auth-plugin`,
 * `kubelogin get-token`) and serves its token or client certificate.
 *
 * The credential is cached under `cluster:<name>:exec` until shortly before its
 * `expirationTimestamp` (without one, until the cluster answers `401`); concurrent requests share
 * one run, and a failed run is not cached. Failures reject with a `503`
 * {@link CredentialsUnavailableError} naming the cluster and the cause, never the plugin's stdout.
 */
export function createExecCredentialSource(
  cluster: ValidatedCluster,
  config: ExecPluginConfig,
  deps: CredentialDependencies,
): CredentialSource {
  const name = cluster.name;
  const key = `cluster:${name}:exec`;
  const plugin = `the exec plugin ${JSON.stringify(config.command)}`;
  let decoded: { stored: string; credential: ObtainedCredential } | undefined;

  async function run(): Promise<FetchedToken> {
    const stdout = await runExecPlugin({
      command: config.command,
      args: config.args ?? [],
      env: {
        ...process.env,
        ...Object.fromEntries((config.env ?? []).map((v) => [v.name, v.value])),
        KUBERNETES_EXEC_INFO: execCredentialInput(cluster, config),
      },
      timeoutMs: config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
    const result = parseExecCredential(stdout, config.apiVersion);
    if (result.certificate && cluster.server.protocol === 'http:') {
      // The certificate could not be presented, and the request would go out anonymous.
      throw new InvalidExecCredentialError('status.clientCertificateData needs an https: server');
    }
    const stored: StoredCredential = { token: result.token, cert: result.certificate?.cert, key: result.certificate?.key, expiresAt: result.expiresAt?.getTime() };
    return { token: JSON.stringify(stored), expiresAt: result.expiresAt };
  }

  function decode(stored: string): ObtainedCredential {
    // One object per credential: parsed once, not per request.
    if (decoded?.stored !== stored) {
      const { token, cert, key, expiresAt } = JSON.parse(stored) as StoredCredential;
      decoded = { stored, credential: { token, certificate: cert !== undefined && key !== undefined ? { cert, key } : undefined, expiresAt } };
    }
    return decoded.credential;
  }

  function explain(error: unknown): string {
    if (error instanceof ExecRunError) {
      const hint = error.reason === 'not-found' && config.installHint ? `; ${config.installHint.trim()}` : '';
      return `${plugin} ${error.message}${hint}`;
    }
    if (error instanceof InvalidExecCredentialError) return `${plugin} printed an invalid ExecCredential: ${error.message}`;
    return `${plugin} could not be used: ${describeError(error)}`;
  }

  return {
    kind: 'exec',
    obtain: () =>
      deps.tokenCache.get(key, reportedFetch(deps, name, 'exec', run)).then(decode, (error: unknown) => {
        // The proxy's own errors (the token store down) already say what happened.
        if (error instanceof ClusterProxyError) throw error;
        throw new CredentialsUnavailableError(`cluster "${name}": ${explain(error)}`, { cluster: name, cause: error });
      }),
    rejected: (credential) => {
      // decode() hands out one object per stored value: an older object is an older credential.
      if (decoded?.credential === credential) deps.tokenCache.invalidate(key, decoded.stored).catch(deps.onError);
    },
  };
}
