import { createSecureContext, type SecureContext } from 'node:tls';
import type { ValidatedCluster } from '../clusters/cluster-config.ts';
import type { ClientCertificate } from '../credentials/cluster-credentials.ts';
import { ClusterMisconfiguredError, CredentialsUnavailableError } from '../errors.ts';

/** The TLS settings of one route, shared by every connection it opens, whichever client opens it. */
export interface RouteTls {
  /**
   * Made once per route: without it node:tls builds a context for every connection, parsing the CA
   * bundle and the key again each time (about a millisecond per connection, paid by every upgrade).
   */
  readonly secureContext: SecureContext;
  /** The cluster's `tlsServerName`: sent as SNI and verified in the certificate instead of the host. */
  readonly servername: string | undefined;
  readonly rejectUnauthorized: boolean;
}

/**
 * The route's TLS settings, or `undefined` for a plain-HTTP server: the cluster's CA, the client
 * certificate when given (the cluster's own route only, never the user's), `tlsServerName` and
 * `insecureSkipTLSVerify`.
 * @throws {CredentialsUnavailableError} when the credentials gave a certificate or key OpenSSL refuses.
 * @throws {ClusterMisconfiguredError} when the cluster's CA is refused.
 */
export function createRouteTls(cluster: ValidatedCluster, certificate: ClientCertificate | undefined): RouteTls | undefined {
  if (cluster.server.protocol !== 'https:') return undefined;
  let secureContext: SecureContext;
  try {
    secureContext = createSecureContext({ ...(cluster.ca === undefined ? {} : { ca: cluster.ca }), ...(certificate ?? {}) });
  } catch (error) {
    // OpenSSL's reason names what is wrong with the PEM, never its content.
    const reason = (error as Error).message;
    if (certificate) {
      throw new CredentialsUnavailableError(`cluster "${cluster.name}": its credentials gave a client certificate or key that cannot be used (${reason}); check what they produce`, {
        cluster: cluster.name,
        cause: error,
      });
    }
    throw new ClusterMisconfiguredError(`cluster "${cluster.name}" is misconfigured: its ca cannot be used (${reason})`, { cluster: cluster.name, cause: error });
  }
  return { secureContext, servername: cluster.tlsServerName, rejectUnauthorized: !cluster.insecureSkipTLSVerify };
}
