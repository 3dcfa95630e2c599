import { BadRequestError } from '../errors.ts';

/**
 * Prefix of the WebSocket subprotocol entry that carries a bearer token, for clients (browsers)
 * that cannot set `Authorization` on a WebSocket: `base64url.bearer.authorization.k8s.io.<token>`.
 */
export const BEARER_PROTOCOL_PREFIX = 'base64url.bearer.authorization.k8s.io.';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Splits a `Sec-WebSocket-Protocol` value (several headers arrive joined by commas). */
function splitProtocols(header: string | undefined): string[] {
  if (header === undefined) return [];
  return header
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

function isTokenEntry(protocol: string): boolean {
  return protocol.toLowerCase().startsWith(BEARER_PROTOCOL_PREFIX);
}

/**
 * Decodes the token of a subprotocol entry. The API server expects unpadded base64url, but browser
 * code often sends unpadded standard base64, so both alphabets are accepted.
 */
function decodeToken(encoded: string): string {
  if (encoded === '') throw new BadRequestError('the bearer token subprotocol entry carries no token');
  if (!/^[A-Za-z0-9+/_-]+$/.test(encoded) || encoded.length % 4 === 1) {
    throw new BadRequestError('the bearer token subprotocol entry is not valid unpadded base64url');
  }
  const bytes = Buffer.from(encoded.replaceAll('-', '+').replaceAll('_', '/'), 'base64');
  let token: string;
  try {
    token = utf8.decode(bytes);
  } catch {
    throw new BadRequestError('the token in the bearer token subprotocol entry is not UTF-8');
  }
  // eslint-disable-next-line no-control-regex -- a token is sent in a header: no spaces nor controls
  if (token.trim() === '' || /[\s\u0000-\u001f\u007f]/.test(token)) {
    throw new BadRequestError('the token in the bearer token subprotocol entry contains spaces or control characters');
  }
  return token;
}

/** What the subprotocol header holds once the bearer token entry has been taken out. */
export interface BearerSubprotocol {
  /** The decoded token, when the client offered one. */
  token: string | undefined;
  /** The other protocols, in the client's order: these are forwarded upstream. */
  protocols: string[];
}

/**
 * Reads the bearer token from a `Sec-WebSocket-Protocol` header, with the API server's rules: at
 * most one token entry, and at least one real protocol beside it.
 * @throws {BadRequestError} for two token entries, a token entry alone, or a malformed token.
 */
export function readBearerSubprotocol(header: string | undefined): BearerSubprotocol {
  const all = splitProtocols(header);
  const tokens = all.filter(isTokenEntry);
  const protocols = all.filter((p) => !isTokenEntry(p));
  if (tokens.length === 0) return { token: undefined, protocols };
  if (tokens.length > 1) throw new BadRequestError('more than one bearer token subprotocol entry');
  if (protocols.length === 0) {
    throw new BadRequestError('a bearer token subprotocol entry must be accompanied by another subprotocol');
  }
  return { token: decodeToken(tokens[0]!.slice(BEARER_PROTOCOL_PREFIX.length)), protocols };
}

/**
 * The header without any bearer token entry, unchecked: for requests whose user token is not used,
 * so that it never reaches the cluster. `undefined` when nothing remains.
 */
export function withoutBearerSubprotocol(header: string | undefined): string | undefined {
  const protocols = splitProtocols(header).filter((p) => !isTokenEntry(p));
  return protocols.length === 0 ? undefined : protocols.join(', ');
}

/** Encodes a token as a subprotocol entry, for clients of the proxy (browser code, tests). */
export function bearerSubprotocol(token: string): string {
  return BEARER_PROTOCOL_PREFIX + Buffer.from(token, 'utf8').toString('base64url');
}
