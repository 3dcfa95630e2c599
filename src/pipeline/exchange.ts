import type { IncomingHttpHeaders } from 'node:http';
import type { ValidatedCluster } from '../clusters/cluster-config.ts';
import type { CredentialSource, ObtainedCredential } from '../credentials/cluster-credentials.ts';
import type { RequestIdentity } from '../hooks.ts';
import type { RequestTrace } from '../tracing/request-trace.ts';
import type { RequestInfo } from './request-info.ts';
import type { UserInfo } from './user.ts';

/**
 * One request on its way through the pipeline, once the cluster and identity are known: what the
 * forwarders need, as values. The client's request itself is left as it arrived.
 */
export interface Exchange {
  /** A random id for logs and session recordings; never sent to the cluster. */
  readonly id: string;
  /** The client's socket address and (redacted) user agent, for the audit event. */
  readonly client: { readonly address: string | undefined; readonly userAgent: string | undefined };
  readonly cluster: ValidatedCluster;
  readonly identity: RequestIdentity;
  /** What the request is in Kubernetes terms (verb, resource, namespace, ...). */
  readonly request: RequestInfo;
  /** Who the request is for, as far as the proxy verified it. */
  readonly user: UserInfo;
  /** The cluster's credential source, when its credentials were used: told about a `401`. */
  readonly credentialSource: CredentialSource | undefined;
  /** What `credentialSource` gave this request. */
  readonly credential: ObtainedCredential | undefined;
  readonly method: string;
  /** Upstream path relative to the server, with the query string. */
  readonly path: string;
  /** `path` without its query string. */
  readonly pathname: string;
  /** The headers for the cluster: the client's, cleaned, with the identity's and the framing Node parsed. */
  readonly headers: IncomingHttpHeaders;
  /** Whether the request carries a body, as Node's parser framed it. */
  readonly hasBody: boolean;
  readonly upgrade: boolean;
  /** A watch or a followed log: once its headers arrived, no deadline and no idle timeout. */
  readonly streaming: boolean;
  /** Milliseconds to wait for the cluster's response headers (or its `101`). */
  readonly timeoutMs: number;
  /** `now()` when the proxy received the request. */
  readonly startedAt: number;
  /** The login session whose token the request carries, if any: upgrades are tied to it. */
  readonly session: string | undefined;
  /** When the credential sent upstream expires (milliseconds since the epoch), when known, for upgrades and streams (the connections `upgradeLifetime` closes); `undefined` for other requests. */
  readonly credentialExpiresAt: number | undefined;
  /** The client asked to close its connection after this request (`Connection: close`). */
  readonly clientCloses: boolean;
  /** Set when its audit event went out: whichever of the observer and the error mapper sees its end first audits it. */
  audited: boolean;
  /** The request's trace, when tracing is on. */
  readonly trace: RequestTrace | undefined;
}
