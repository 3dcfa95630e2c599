/**
 * Whose identity a request reaches the cluster with: `'user'` the user's own token, `'cluster'`
 * the cluster's own credentials, `'impersonated'` the cluster's credentials impersonating the user
 * whose token the proxy verified.
 */
export type IdentityKind = 'user' | 'cluster' | 'impersonated';

/**
 * How the proxy knows who the user is. Only verified facts count; a claim the proxy could not
 * check never names a user.
 * - `'verified-token'`: the claims of the user's token, verified by the proxy (`'impersonate'` mode);
 * - `'session'`: the verified id-token claims of the user's login session;
 * - `'self-subject-review'`: the cluster said who the token is (`identify: 'self-subject-review'`);
 * - `'cluster'`: the cluster's own credentials: the name is the cluster's, not a person's;
 * - `'unknown'`: an opaque token nobody vouched for; `name` is `undefined` and `groups` empty.
 */
export type UserInfoSource = 'verified-token' | 'session' | 'self-subject-review' | 'cluster' | 'unknown';

/** Who a request is made for, as far as the proxy can tell. Never carries a token or anything a client could replay. */
export interface UserInfo {
  /** The user name (`'alice@example.com'`, `'system:serviceaccount:ns:sa'`); `undefined` when the proxy cannot know it. */
  readonly name: string | undefined;
  /** The user's groups; empty when unknown. */
  readonly groups: readonly string[];
  /** Whose identity goes upstream. */
  readonly kind: IdentityKind;
  /** Where the name and groups came from. */
  readonly source: UserInfoSource;
}
