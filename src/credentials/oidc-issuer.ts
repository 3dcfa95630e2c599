import * as client from 'openid-client';
import { describeError } from './cluster-credentials.ts';
import { createIssuerFetch } from './oidc-fetch.ts';

/** An issuer slower than this fails the request with a 503 instead of holding it. */
export const ISSUER_TIMEOUT_SECONDS = 10;

/** How to reach one OIDC issuer as one client. */
export interface IssuerClientOptions {
  issuer: string;
  clientId: string;
  clientSecret?: string | undefined;
  /** PEM CA for the issuer's TLS, besides Node's roots and `NODE_EXTRA_CA_CERTS`. */
  ca?: string | Buffer | undefined;
}

/**
 * The secret in a Basic header, unless the issuer declares that it only takes it in the form body
 * (kubectl's OAuth library adapts likewise); no secret: a public client.
 */
function clientAuthentication(secret: string | undefined): client.ClientAuth {
  if (!secret) return client.None();
  const basic = client.ClientSecretBasic(secret);
  const post = client.ClientSecretPost(secret);
  return (server, ...rest) => {
    const methods = server.token_endpoint_auth_methods_supported;
    const postOnly = methods !== undefined && !methods.includes('client_secret_basic') && methods.includes('client_secret_post');
    return (postOnly ? post : basic)(server, ...rest);
  };
}

/**
 * Discovers an issuer (`<issuer>/.well-known/openid-configuration`) with openid-client. A failed
 * discovery is not kept: the next call tries again, so an issuer that was down comes back.
 */
export function createIssuerClient(options: IssuerClientOptions) {
  const issuerFetch = createIssuerFetch(options.ca);
  const clientAuth = clientAuthentication(options.clientSecret);
  let configuration: Promise<client.Configuration> | undefined;
  return {
    issuer: options.issuer,
    /** The discovered configuration; rejects with openid-client's error. */
    configuration(): Promise<client.Configuration> {
      configuration ??= client
        .discovery(new URL(options.issuer), options.clientId, undefined, clientAuth, {
          [client.customFetch]: issuerFetch,
          timeout: ISSUER_TIMEOUT_SECONDS,
          // Validation allows http: issuers (a loopback identity provider in development).
          execute: new URL(options.issuer).protocol === 'http:' ? [client.allowInsecureRequests] : [],
        })
        .catch((error: unknown) => {
          configuration = undefined;
          throw error;
        });
      return configuration;
    },
  };
}


/** openid-client wraps network and TLS failures ("something went wrong"): the innermost cause says what happened. */
export function describeIssuerError(error: unknown): string {
  if (error instanceof client.ResponseBodyError) return `HTTP ${error.status} ${error.error}`;
  let innermost = error;
  while (innermost instanceof Error && innermost.cause instanceof Error) innermost = innermost.cause;
  return describeError(innermost);
}

/** Whether the issuer refused a grant because the refresh token (or code) is no longer valid. */
export function isInvalidGrant(error: unknown): boolean {
  return error instanceof client.ResponseBodyError && error.error === 'invalid_grant';
}
