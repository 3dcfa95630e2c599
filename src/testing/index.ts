/**
 * The testing kit: a fake Kubernetes API server that kubectl and `@kubernetes/client-node` talk to
 * ({@link startFakeCluster}), a client for tests ({@link testClient}) and a server helper
 * ({@link serve}).
 * @module kube-cluster-proxy/testing
 */
// The public types use Node's (Buffer, node:http): consumers need @types/node.
/// <reference types="node" preserve="true" />
// First, so that an old Node fails with a message naming the version it needs.
import '../node-version.ts';
export {
  createCertificateAuthority,
  type CertificateAndKey,
  type CertificateAuthority,
  type CertificateAuthorityOptions,
  type IssueOptions,
} from './certificates.ts';
export {
  startFakeCluster,
  type FakeCluster,
  type FakeClusterConfig,
  type FakeClusterOptions,
  type FakeRequest,
} from './fake-cluster.ts';
export type { FakeClusterObjects, FakeObject } from './cluster-state.ts';
export type { PolicyRule } from './authorization.ts';
export type { FakeContainer, FakePod, FakePodPatch, FakePodPhase } from './pods.ts';
export type { ExecContext, ExecHandler, TerminalSize } from './exec-context.ts';
export { FakeFileSystemError, type FakeFileStat, type FakeFileSystem, type FakeFileType } from './file-tree.ts';
export type { FakePortHandler } from './port-targets.ts';
export type { AuthenticationMethod, TokenUser } from './authentication.ts';
export type { FakeOidcOptions } from './oidc-verifier.ts';
export type { StreamKind } from './streams.ts';
export { runBuiltinCommand } from './commands.ts';
export { testClient, type TestClient, type TestClientOptions, type TestResponse, type LogOptions } from './test-client.ts';
export type { ExecOptions, ExecResult } from './client-exec.ts';
export type { ClientStream, KubeObject, WatchEvent, WatchEventType } from './client-streams.ts';
export { TestClientError, type KubeStatus } from './client-answer.ts';
export { serve, type ServeOptions, type ServedProxy, type TestServer } from './test-server.ts';
