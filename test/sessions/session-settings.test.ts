import { describe, expect, it } from 'vitest';
import { InvalidOptionError, oidcSessions, type OidcSessionsOptions } from 'kube-cluster-proxy';
import { sessionSettings } from '../../src/sessions/session-settings.ts';

const valid: OidcSessionsOptions = {
  issuer: 'https://idp.example.com',
  clientId: 'dashboard',
  redirectUri: 'https://dash.example.com/auth/callback',
  secret: 'a-secret-of-at-least-32-characters!!',
};

function recording() {
  const warnings: string[] = [];
  return { warnings, logger: { warn: (message: string) => warnings.push(message), error: () => {} } };
}

describe('sessionSettings', () => {
  it('applies the defaults', () => {
    const settings = sessionSettings(valid);
    expect(settings).toMatchObject({ refreshSkewMs: 60_000, cookieName: 'cluster-session', trustProxy: false, sessionTtlMs: 43_200_000, logoutCheckIntervalMs: 500, loginTimeoutSeconds: 600, maxConnectionAgeMs: undefined });
    expect(settings.redirectUri.pathname).toBe('/auth/callback');
    expect([...settings.providers.keys()]).toEqual(['default']);
  });

  it('puts the default provider first, then the named ones', () => {
    const settings = sessionSettings({ ...valid, providers: { partner: { issuer: 'https://partner.example', clientId: 'p' } } });
    expect([...settings.providers.keys()]).toEqual(['default', 'partner']);
    expect(settings.providers.get('partner')?.issuer).toBe('https://partner.example');
  });

  it('takes refreshSkewMs, without a warning', () => {
    const { warnings, logger } = recording();
    expect(sessionSettings({ ...valid, refreshSkewMs: 5_000, logger }).refreshSkewMs).toBe(5_000);
    expect(warnings).toEqual([]);
  });

  it('still takes the deprecated refreshSkew, warning once that it is deprecated', () => {
    const { warnings, logger } = recording();
    expect(sessionSettings({ ...valid, refreshSkew: 7_000, logger }).refreshSkewMs).toBe(7_000);
    expect(warnings).toEqual([expect.stringMatching(/refreshSkew is deprecated: rename it to refreshSkewMs/)]);
    oidcSessions({ ...valid, refreshSkew: 7_000, logger }).close();
    expect(warnings).toHaveLength(2);
  });

  it.each<[string, Partial<OidcSessionsOptions> & Record<string, unknown>, RegExp]>([
    ['both names of the refresh skew', { refreshSkew: 1, refreshSkewMs: 2 }, /refreshSkew and refreshSkewMs are both given/],
    ['a negative refreshSkewMs', { refreshSkewMs: -1 }, /refreshSkewMs must be a non-negative number/],
    ['an infinite refreshSkewMs', { refreshSkewMs: Infinity }, /refreshSkewMs must be a non-negative number/],
    ['a string refreshSkewMs', { refreshSkewMs: '60000' as never }, /refreshSkewMs must be a non-negative number/],
    ['a misspelled refreshSkewMs', { refreshskewms: 1 }, /unknown option "refreshskewms"; did you mean "refreshSkewMs"\?/],
    ['an issuer that is not http(s)', { issuer: 'file:///etc/passwd' }, /issuer must be an http\(s\) URL/],
    ['a redirectUri that is not http(s)', { redirectUri: 'javascript:alert(1)' }, /redirectUri must be an http\(s\) URL/],
    ['a store whose tryLock is not a function', { tokenStore: { get: () => Promise.resolve(undefined), set: () => Promise.resolve(), delete: () => Promise.resolve(), tryLock: 1 } as never }, /tokenStore must implement/],
    ['a provider name with a slash', { providers: { 'a/b': { issuer: 'https://x', clientId: 'y' } } }, /"a\/b" is not a usable provider name/],
    ['a misspelled provider option', { providers: { p: { issuer: 'https://x', clientId: 'y', clientSecrets: 'z' } as never } }, /providers\.p: unknown option "clientSecrets"/],
    ['options that are not an object', null as never, /options are required/],
  ])('refuses %s, naming the option', (_what, change, message) => {
    const options = change === null ? (null as never) : { ...valid, ...change };
    expect(() => sessionSettings(options)).toThrow(InvalidOptionError);
    expect(() => sessionSettings(options)).toThrow(message);
  });
});
