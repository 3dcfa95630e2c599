import { utf8HeaderValue } from '../checks.ts';
import type { CredentialKind, CredentialSource, ObtainedCredential } from '../credentials/cluster-credentials.ts';
import type { UserToken } from '../credentials/user-token.ts';
import type { ReviewedUser } from '../identify/self-subject-review.ts';
import type { UserTokenVerifier, VerifiedUser } from '../oidc/user-token-verifier.ts';
import type { RequestIdentity } from '../hooks.ts';
import type { ClusterAccess } from './upstreams.ts';
import type { UserInfo } from './user.ts';

/**
 * Whose identity a request takes to the cluster, decided from the cluster's `authMode` and the
 * user token the request carries:
 * - `'user'`: the user's token is forwarded;
 * - `'cluster'`: the cluster's own credentials;
 * - `'impersonate'`: the user's token is verified by the proxy, and the cluster's credentials go
 *   upstream impersonating the verified user;
 * - `'refused'`: the cluster needs the user and the request carries no token (`401`).
 */
export type IdentityDecision =
  | { readonly kind: 'user'; readonly token: UserToken }
  | { readonly kind: 'cluster'; readonly credentials: CredentialSource }
  | { readonly kind: 'impersonate'; readonly token: UserToken; readonly credentials: CredentialSource; readonly verifier: UserTokenVerifier }
  | { readonly kind: 'refused' };

/**
 * Decides whose identity goes upstream, from how the cluster is reached (its `authMode`, with the
 * sources that mode has) and the user token the request carries. Pure: the same inputs always
 * give the same decision, which carries what the next step needs.
 */
export function decideIdentity(access: ClusterAccess, token: UserToken | undefined): IdentityDecision {
  switch (access.mode) {
    case 'user':
      return token ? { kind: 'user', token } : { kind: 'refused' };
    case 'cluster':
      return { kind: 'cluster', credentials: access.credentials };
    case 'user-then-cluster':
      return token ? { kind: 'user', token } : { kind: 'cluster', credentials: access.credentials };
    case 'impersonate':
      return token ? { kind: 'impersonate', token, credentials: access.credentials, verifier: access.verifier } : { kind: 'refused' };
  }
}

/** What the identity adds to the upstream request, besides the client's own headers. */
export interface IdentityHeaders {
  /** For hooks: whose identity, and where it came from. */
  identity: RequestIdentity;
  /** The upstream `Authorization`, if any (a client certificate may stand instead). */
  authorization: string | undefined;
  /** `Impersonate-*` headers to add: a fixed identity (kubeconfig `as`) or the verified user. */
  impersonation: Readonly<Record<string, string | string[]>>;
  /**
   * Whether the client's own `Impersonate-*` headers must go: whenever the cluster's credentials
   * are sent, or a client would borrow the proxy's identity.
   */
  dropClientImpersonation: boolean;
}

/** The inputs of {@link identityHeaders}, gathered by the asynchronous steps between the two decisions. */
export type DecidedIdentity =
  | { kind: 'user'; token: UserToken }
  | { kind: 'cluster'; source: CredentialKind; credential: ObtainedCredential; fixed: Readonly<Record<string, string | string[]>> }
  | { kind: 'impersonate'; token: UserToken; source: CredentialKind; credential: ObtainedCredential; verified: VerifiedUser };

/** The headers an identity puts on the upstream request. Pure. */
export function identityHeaders(decided: DecidedIdentity): IdentityHeaders {
  if (decided.kind === 'user') {
    return {
      identity: { kind: 'user', source: decided.token.source },
      authorization: `Bearer ${decided.token.token}`,
      impersonation: {},
      dropClientImpersonation: false,
    };
  }
  const authorization = decided.credential.token === undefined ? undefined : `Bearer ${decided.credential.token}`;
  if (decided.kind === 'cluster') {
    return { identity: { kind: 'cluster', source: decided.source }, authorization, impersonation: decided.fixed, dropClientImpersonation: true };
  }
  const { user, groups } = decided.verified;
  return {
    identity: { kind: 'impersonated', source: decided.token.source },
    authorization,
    impersonation: {
      'impersonate-user': utf8HeaderValue(user),
      ...(groups.length > 0 ? { 'impersonate-group': groups.map(utf8HeaderValue) } : {}),
    },
    dropClientImpersonation: true,
  };
}

/** A decision with the user verified, when verification was due: who the request is for. */
export type VerifiedDecision = Exclude<IdentityDecision, { kind: 'refused' | 'impersonate' }> | (Extract<IdentityDecision, { kind: 'impersonate' }> & { verified: VerifiedUser });

/**
 * Who the request is for, from verified facts only: the verified claims in `'impersonate'` mode,
 * the cluster's name for its own credentials, and for an opaque user token what the cluster said
 * of it (`reviewed`, with `identify: 'self-subject-review'`), else nobody known. Pure.
 */
export function userOf(who: VerifiedDecision, cluster: string, reviewed?: ReviewedUser): UserInfo {
  switch (who.kind) {
    case 'impersonate':
      return { name: who.verified.user, groups: who.verified.groups, kind: 'impersonated', source: 'verified-token' };
    case 'cluster':
      return { name: cluster, groups: [], kind: 'cluster', source: 'cluster' };
    case 'user':
      return reviewed
        ? { name: reviewed.name, groups: reviewed.groups, kind: 'user', source: 'self-subject-review' }
        : { name: undefined, groups: [], kind: 'user', source: 'unknown' };
  }
}
