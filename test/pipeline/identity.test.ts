import { describe, expect, it } from 'vitest';
import type { CredentialKind, CredentialSource, ObtainedCredential } from '../../src/credentials/cluster-credentials.ts';
import type { UserToken, UserTokenSource } from '../../src/credentials/user-token.ts';
import type { UserTokenVerifier } from '../../src/oidc/user-token-verifier.ts';
import { decideIdentity, identityHeaders, userOf, type DecidedIdentity } from '../../src/pipeline/identity.ts';
import type { ClusterAccess } from '../../src/pipeline/upstreams.ts';

const source = (kind: CredentialKind): CredentialSource => ({ kind, obtain: () => Promise.resolve({}), rejected: () => {} });
const verifier: UserTokenVerifier = { verify: () => Promise.resolve({ user: 'jane', groups: ['dev'] }) };
const access = (mode: ClusterAccess['mode'], kind: CredentialKind): ClusterAccess =>
  mode === 'user' ? { mode } : mode === 'impersonate' ? { mode, credentials: source(kind), verifier } : { mode, credentials: source(kind) };
const credentialOf: Record<'token' | 'clientCertificate', ObtainedCredential> = {
  token: { token: 'cluster-token' },
  clientCertificate: { certificate: { cert: 'C', key: 'K' } },
};
const FIXED = { 'impersonate-user': 'robot' };

/** Runs both decisions the way the preparation step does, with the asynchronous steps already answered. */
function decide(mode: ClusterAccess['mode'], tokenSource: UserTokenSource | 'none', kind: 'token' | 'clientCertificate') {
  const token: UserToken | undefined = tokenSource === 'none' ? undefined : { token: 'user-token', source: tokenSource };
  const decision = decideIdentity(access(mode, kind), token);
  if (decision.kind === 'refused') return { refused: true as const };
  const credential = credentialOf[kind];
  const decided: DecidedIdentity =
    decision.kind === 'user'
      ? decision
      : decision.kind === 'impersonate'
        ? { kind: 'impersonate', token: decision.token, source: kind, credential, verified: { user: 'Jürgen', groups: ['dev', 'ops'] } }
        : { kind: 'cluster', source: kind, credential, fixed: FIXED };
  return { refused: false as const, ...identityHeaders(decided) };
}

const MODES = ['user', 'cluster', 'user-then-cluster', 'impersonate'] as const;
const SOURCES = ['none', 'header', 'subprotocol', 'cookie', 'session'] as const;
const KINDS = ['token', 'clientCertificate'] as const;

/** The rules, written out once more in words: what each mode does with and without a user token. */
function expected(mode: (typeof MODES)[number], tokenSource: (typeof SOURCES)[number], kind: (typeof KINDS)[number]) {
  const hasToken = tokenSource !== 'none';
  const clusterAuth = kind === 'token' ? 'Bearer cluster-token' : undefined;
  if (mode === 'user' || (mode === 'user-then-cluster' && hasToken)) {
    return hasToken ? { identity: { kind: 'user', source: tokenSource }, authorization: 'Bearer user-token', impersonation: {}, dropClientImpersonation: false } : 'refused';
  }
  if (mode === 'impersonate') {
    if (!hasToken) return 'refused';
    return {
      identity: { kind: 'impersonated', source: tokenSource },
      authorization: clusterAuth,
      impersonation: { 'impersonate-user': Buffer.from('Jürgen').toString('latin1'), 'impersonate-group': ['dev', 'ops'] },
      dropClientImpersonation: true,
    };
  }
  return { identity: { kind: 'cluster', source: kind }, authorization: clusterAuth, impersonation: FIXED, dropClientImpersonation: true };
}

const table = MODES.flatMap((mode) => SOURCES.flatMap((tokenSource) => KINDS.map((kind) => [mode, tokenSource, kind] as const)));

describe('the identity decision', () => {
  it(`covers every mode x token source x credential kind (${table.length} rows)`, () => {
    expect(table).toHaveLength(40);
  });

  it.each(table)('%s, user token from %s, cluster credential %s', (mode, tokenSource, kind) => {
    const want = expected(mode, tokenSource, kind);
    const got = decide(mode, tokenSource, kind);
    if (want === 'refused') expect(got).toEqual({ refused: true });
    else expect(got).toEqual({ refused: false, ...want });
  });

  it('never sends the user token together with the cluster identity, nor the cluster token for a user', () => {
    for (const [mode, tokenSource, kind] of table) {
      const got = decide(mode, tokenSource, kind);
      if (got.refused) continue;
      if (got.identity.kind === 'user') expect(got.authorization).toBe('Bearer user-token');
      else expect(got.authorization).not.toBe('Bearer user-token');
    }
  });

  it('is pure: the same inputs give equal decisions, and nothing is changed', () => {
    const token: UserToken = Object.freeze({ token: 't', source: 'header' });
    const a = access('user-then-cluster', 'token');
    expect(decideIdentity(a, token)).toEqual(decideIdentity(a, token));
    expect(token).toEqual({ token: 't', source: 'header' });
  });
});

describe('userOf', () => {
  const token: UserToken = { token: 'user-token', source: 'header' };
  it('names the user of an opaque token only as the cluster reviewed it', () => {
    expect(userOf({ kind: 'user', token }, 'prod')).toEqual({ name: undefined, groups: [], kind: 'user', source: 'unknown' });
    expect(userOf({ kind: 'user', token }, 'prod', { name: 'alice', groups: ['devs'] })).toEqual({ name: 'alice', groups: ['devs'], kind: 'user', source: 'self-subject-review' });
  });

  it('takes the verified claims in impersonate mode and the cluster for its own credentials, whatever a review said', () => {
    const reviewed = { name: 'mallory', groups: ['system:masters'] };
    expect(userOf({ kind: 'cluster', credentials: source('token') }, 'prod', reviewed)).toEqual({ name: 'prod', groups: [], kind: 'cluster', source: 'cluster' });
    const impersonate = { kind: 'impersonate' as const, token, credentials: source('token'), verifier, verified: { user: 'jane', groups: ['dev'] } };
    expect(userOf(impersonate, 'prod', reviewed)).toEqual({ name: 'jane', groups: ['dev'], kind: 'impersonated', source: 'verified-token' });
  });
});
