import { InvalidOptionError } from '../errors.ts';
import { validateExec, type ExecPluginConfig } from './exec-config.ts';
import { validateOidc, type OidcAuthProviderConfig } from './oidc-config.ts';
import { checkPem } from './pem-option.ts';

/** A token fetched on demand, with the time it stops being valid. */
export interface FetchedToken {
  token: string;
  /** When the token expires. Without it the token is kept until the cluster answers `401`. */
  expiresAt?: Date;
}

/** The cluster's own credentials: exactly one of these shapes. */
export type ClusterCredentials =
  | {
      /** A static bearer token. */
      token: string;
    }
  | {
      /**
       * A file holding a bearer token, re-read at most once a minute (a rotated service-account
       * token is picked up); when a read fails, the last good token is kept.
       */
      tokenFile: string;
    }
  | {
      /** PEM client certificate, presented during the TLS handshake. */
      clientCertificate: string | Buffer;
      /** PEM private key of `clientCertificate`. */
      clientKey: string | Buffer;
    }
  | {
      /**
       * Fetches a token. Results are cached in the proxy's token store until shortly before
       * `expiresAt`; concurrent requests share one call.
       */
      getToken: (context: { cluster: string }) => Promise<FetchedToken>;
    }
  | {
      /** A client-go credential plugin (`aws eks get-token`, `gke-gcloud-auth-plugin`, `kubelogin`). */
      exec: ExecPluginConfig;
    }
  | {
      /** kubectl's OIDC `auth-provider`: an id-token, refreshed with a refresh-token at the issuer. */
      oidc: OidcAuthProviderConfig;
    };

const CREDENTIAL_SHAPES = ['token', 'tokenFile', 'clientCertificate/clientKey', 'getToken', 'exec', 'oidc'] as const;

/**
 * Checks `credentials`: exactly one shape, each field of the right kind. Returns a copy (a token
 * trimmed).
 * @throws {InvalidOptionError} naming the field and what to do.
 */
export function validateCredentials(credentials: unknown, where: string): ClusterCredentials {
  if (typeof credentials !== 'object' || credentials === null) {
    throw new InvalidOptionError(`${where}.credentials must be an object`);
  }
  const c = credentials as Record<string, unknown>;
  const given = Object.keys(c).filter((key) => c[key] !== undefined);
  // `{ token: process.env.PROD_TOKEN }` with the variable unset: the key is there, its value is not.
  const unset = Object.keys(c).filter((key) => c[key] === undefined);
  const shape = `one of ${CREDENTIAL_SHAPES.map((s) => `{ ${s} }`).join(', ')}`;
  const only = (...keys: string[]) => given.length === keys.length && keys.every((k) => given.includes(k));
  if (only('token')) {
    if (typeof c.token !== 'string' || c.token.trim() === '' || /\s/.test(c.token.trim())) {
      const empty = typeof c.token === 'string' && c.token.trim() === '' ? ' (it is empty: an environment variable set to ""?)' : '';
      throw new InvalidOptionError(`${where}.credentials.token must be a non-empty string without spaces${empty}`);
    }
    return { token: c.token.trim() };
  }
  if (only('tokenFile')) {
    if (typeof c.tokenFile !== 'string' || c.tokenFile === '') {
      throw new InvalidOptionError(`${where}.credentials.tokenFile must be a file path`);
    }
    return { tokenFile: c.tokenFile };
  }
  if (only('clientCertificate', 'clientKey')) {
    checkPem(c.clientCertificate, `${where}.credentials.clientCertificate`);
    checkPem(c.clientKey, `${where}.credentials.clientKey`);
    return { clientCertificate: c.clientCertificate, clientKey: c.clientKey };
  }
  if (only('getToken')) {
    if (typeof c.getToken !== 'function') {
      throw new InvalidOptionError(`${where}.credentials.getToken must be a function`);
    }
    return { getToken: c.getToken as (context: { cluster: string }) => Promise<FetchedToken> };
  }
  if (only('exec')) return { exec: validateExec(c.exec, where) };
  if (only('oidc')) return { oidc: validateOidc(c.oidc, where) };
  if (unset.length > 0) {
    const names = unset.map((key) => `${where}.credentials.${key}`).join(', ');
    throw new InvalidOptionError(
      `${names} ${unset.length === 1 ? 'is' : 'are'} undefined, most likely read from an unset environment variable ` +
        `(e.g. process.env.PROD_TOKEN): set it, or leave credentials out for a cluster whose users bring their own token`,
    );
  }
  throw new InvalidOptionError(`${where}.credentials must be ${shape}; got { ${given.join(', ')} }`);
}

