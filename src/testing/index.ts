// The public types use Node's (Buffer, node:http): consumers need @types/node.
/// <reference types="node" preserve="true" />
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
export type { AuthenticationMethod, TokenUser } from './authentication.ts';
export type { FakeOidcOptions } from './oidc-verifier.ts';
export type { StreamKind } from './streams.ts';
export { runBuiltinCommand } from './commands.ts';
