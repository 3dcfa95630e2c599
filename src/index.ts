/**
 * Proxy the Kubernetes API of many clusters from an Express or `node:http` server:
 * {@link createClusterProxy}, the cluster sources ({@link kubeconfigClusters},
 * {@link inClusterCluster}, {@link staticClusters}, {@link composeClusters}), browser logins
 * ({@link oidcSessions}) and the errors the proxy answers with.
 * @module kube-cluster-proxy
 */
// The public types use Node's (Buffer, node:http): consumers need @types/node.
/// <reference types="node" preserve="true" />
// First, so that an old Node fails with a message naming the version it needs.
import './node-version.ts';
export { createClusterProxy, type ClusterProxy } from './create-cluster-proxy.ts';
export { DEFAULTS, type ClusterProxyOptions } from './options.ts';
export type {
  ClusterProxyHooks,
  Logger,
  ProxyEvent,
  ProxyResponseEvent,
  ProxyErrorEvent,
  RequestIdentity,
  UpgradeEvent,
  StreamEndEvent,
  CloseReason,
} from './hooks.ts';
export type { DrainOptions } from './lifecycle/drain.ts';
export type { ShareOptions, SharedWatchesOptions, DiscoveryShareOptions, ReadShareOptions } from './share/share-options.ts';
export type { LimitOptions } from './limits/limit-options.ts';
export type { ReadinessReport, ProbeHandler } from './lifecycle/readiness.ts';
export type { ForwardEngine } from './forward/http-forwarder.ts';
export type { ClusterInfo } from './clusters/cluster-info.ts';
export type {
  AuthMode,
  ClusterConfig,
  ClusterCredentials,
  ClusterContextInfo,
  ExecPluginConfig,
  FetchedToken,
  Impersonation,
  ImpersonationConfig,
  OidcAuthProviderConfig,
} from './clusters/cluster-config.ts';
export type { ClusterResolver, ClusterResolverEvent } from './clusters/cluster-resolver.ts';
export { staticClusters } from './clusters/static-clusters.ts';
export {
  kubeconfigClusters,
  defaultKubeconfigPaths,
  type KubeconfigClustersOptions,
  type ContextMatcher,
} from './clusters/kubeconfig-clusters.ts';
export { inClusterCluster, SERVICE_ACCOUNT_DIR, type InClusterOptions } from './clusters/in-cluster.ts';
export { composeClusters } from './clusters/compose-clusters.ts';
export type { CredentialKind } from './credentials/cluster-credentials.ts';
export type { UserTokenSource } from './credentials/user-token.ts';
export { BEARER_PROTOCOL_PREFIX, bearerSubprotocol } from './credentials/bearer-subprotocol.ts';
export {
  DEFAULT_TOKEN_COOKIE,
  setClusterTokenCookie,
  clearClusterTokenCookie,
  type TokenCookieOptions,
} from './credentials/token-cookie.ts';
export type { TokenStore, TokenStoreLock } from './tokens/token-store.ts';
export {
  oidcSessions,
  type OidcProviderOptions,
  type OidcSessions,
  type OidcSessionsOptions,
  type SessionConnection,
  type SessionRouter,
  type SessionToken,
  type SessionTokenSource,
} from './sessions/oidc-sessions.ts';
export { memoryTokenStore, type MemoryTokenStoreOptions } from './tokens/memory-token-store.ts';
export * from './errors.ts';
export { kubernetesStatus, type KubernetesStatus } from './status.ts';
export { parseRequestInfo, type RequestInfo, type ResourceRequestInfo, type NonResourceRequestInfo, type ResourceVerb } from './pipeline/request-info.ts';
export type { UserInfo, UserInfoSource, IdentityKind } from './pipeline/user.ts';
export type { Policy, PolicyRule, PolicyAuthorize } from './policy/policy.ts';
export type { AuditEvent } from './hooks.ts';
export type { CredentialFetchEvent } from './credentials/credential-source.ts';
export type { SessionRefreshEvent } from './hooks.ts';
export type { RecordSessions } from './recording/record-sessions.ts';
export type { RecordingSummary, RecordingDropped } from './recording/session-recorder.ts';
