import * as client from 'openid-client';
import { describeError } from '../redact.ts';
import { allowsHttp, discoverIssuer } from './issuer-discovery.ts';
import { createIssuerFetch, ISSUER_REQUEST_DEFAULTS, type IssuerRequestOptions } from './issuer-fetch.ts';

/** How to reach one OIDC issuer as one client. */
export interface IssuerClientOptions extends IssuerRequestOptions {
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
 * One client of an issuer, for openid-client's grants: the issuer's metadata comes from the shared
 * discovery ({@link discoverIssuer}), and every request it makes is bounded in time and size.
 */
export function createIssuerClient(options: IssuerClientOptions) {
  const clientAuth = clientAuthentication(options.clientSecret);
  const issuerFetch = createIssuerFetch(options.ca, options);
  const address = { issuer: options.issuer, ca: options.ca };
  let built: { metadata: client.ServerMetadata; configuration: client.Configuration } | undefined;
  return {
    issuer: options.issuer,
    /** The client's configuration at the discovered issuer; rejects with openid-client's error. */
    async configuration(): Promise<client.Configuration> {
      const metadata = await discoverIssuer(address, options);
      if (built?.metadata !== metadata) {
        const configuration = new client.Configuration(metadata, options.clientId, undefined, clientAuth);
        configuration[client.customFetch] = issuerFetch;
        configuration.timeout = (options.timeoutMs ?? ISSUER_REQUEST_DEFAULTS.timeoutMs) / 1000;
        if (allowsHttp(options.issuer)) client.allowInsecureRequests(configuration);
        built = { metadata, configuration };
      }
      return built.configuration;
    },
  };
}

/** openid-client wraps network and TLS failures ("something went wrong"): the innermost cause says what happened. */
export function describeIssuerError(error: unknown): string {
  if (error instanceof client.ResponseBodyError) return `HTTP ${error.status} ${error.error}`;
  let innermost = error;
  while (innermost instanceof Error && innermost.cause instanceof Error) innermost = innermost.cause;
  // An answer that is not a discovery document or a token response carries the response itself.
  const response = innermost instanceof Error && innermost.cause instanceof Response ? innermost.cause : undefined;
  return describeError(innermost) + (response ? `: the issuer answered HTTP ${response.status}` : '');
}

/** Whether the issuer refused a grant because the refresh token (or code) is no longer valid. */
export function isInvalidGrant(error: unknown): boolean {
  return error instanceof client.ResponseBodyError && error.error === 'invalid_grant';
}
