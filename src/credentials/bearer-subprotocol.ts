import { isBearerToken, isSubprotocol } from '../checks.ts';
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

// Without its final dot, so that a malformed entry (`...k8s.io<token>`) is still taken for a token
// entry and refused rather than forwarded, with the token, to the cluster.
const TOKEN_ENTRY = BEARER_PROTOCOL_PREFIX.slice(0, -1);

function isTokenEntry(protocol: string): boolean {
  return protocol.toLowerCase().startsWith(TOKEN_ENTRY);
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
  if (!isBearerToken(token)) {
    throw new BadRequestError('the token in the bearer token subprotocol entry must be visible ASCII (no spaces, controls or other characters)');
  }
  return token;
}

/** The entries that are not token entries: forwarded to the cluster, so each must be a valid protocol name. */
function otherProtocols(entries: string[]): string[] {
  const protocols = entries.filter((p) => !isTokenEntry(p));
  for (const protocol of protocols) {
    if (!isSubprotocol(protocol)) throw new BadRequestError(`the subprotocol ${JSON.stringify(protocol)} is not a valid protocol name`);
  }
  return protocols;
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
  const protocols = otherProtocols(all);
  if (tokens.length === 0) return { token: undefined, protocols };
  if (tokens.length > 1) throw new BadRequestError('more than one bearer token subprotocol entry');
  if (protocols.length === 0) {
    throw new BadRequestError('a bearer token subprotocol entry must be accompanied by another subprotocol');
  }
  const entry = tokens[0]!;
  if (entry[TOKEN_ENTRY.length] !== '.') {
    throw new BadRequestError(`the bearer token subprotocol entry must start with "${BEARER_PROTOCOL_PREFIX}"`);
  }
  return { token: decodeToken(entry.slice(BEARER_PROTOCOL_PREFIX.length)), protocols };
}

/**
 * The header without any bearer token entry (whether or not its token was used, it never reaches
 * the cluster), `undefined` when nothing remains.
 * @throws {BadRequestError} for an entry that is not a valid protocol name.
 */
export function withoutBearerSubprotocol(header: string | undefined): string | undefined {
  const protocols = otherProtocols(splitProtocols(header));
  return protocols.length === 0 ? undefined : protocols.join(', ');
}

/** Encodes a token as a subprotocol entry, for clients of the proxy (browser code, tests). */
export function bearerSubprotocol(token: string): string {
  return BEARER_PROTOCOL_PREFIX + Buffer.from(token, 'utf8').toString('base64url');
}
