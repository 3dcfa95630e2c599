import { CredentialsUnavailableError } from '../errors.ts';
import { createIssuerClient, describeIssuerError } from '../oidc/issuer-client.ts';
import { DEFAULTS, type OidcProviderOptions } from './session-options.ts';

/** One provider of the sessions, ready for logins and refreshes. */
export interface SessionProvider {
  readonly name: string;
  readonly issuer: string;
  readonly client: ReturnType<typeof createIssuerClient>;
  readonly scopes: readonly string[];
  readonly loginParams: Readonly<Record<string, string>>;
  readonly forward: 'id_token' | 'access_token';
}

/** The providers by name (`'default'` first), each with its issuer client and defaults applied. */
export function createSessionProviders(options: ReadonlyMap<string, OidcProviderOptions>): ReadonlyMap<string, SessionProvider> {
  return new Map(
    [...options].map(([name, p]) => [
      name,
      {
        name,
        issuer: p.issuer,
        client: createIssuerClient({ issuer: p.issuer, clientId: p.clientId, clientSecret: p.clientSecret, ca: p.issuerCa }),
        scopes: p.scopes ?? DEFAULTS.scopes,
        loginParams: p.loginParams ?? {},
        forward: p.forward ?? DEFAULTS.forward,
      },
    ]),
  );
}

/** The provider could not be reached for `what` (discovery, login, refresh): `503`, worth retrying. */
export function providerUnreachable(provider: SessionProvider, error: unknown, what: string): CredentialsUnavailableError {
  return new CredentialsUnavailableError(`the identity provider ${provider.issuer} is unreachable (${what}): ${describeIssuerError(error)}; try again shortly`, { cause: error, });
}
