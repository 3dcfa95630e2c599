/**
 * What one client's watch asks for, split into the part many clients can share (the key: what the
 * upstream watch streams) and the part that is each subscriber's own (where its stream starts and
 * how long it lasts). Pure: the same request always gives the same answer.
 */

/** Where one subscriber's stream starts, and what it wants besides the events. */
export interface SubscriberStart {
  /** `''` (unset), `'0'` (any) or a decimal resourceVersion. */
  readonly resourceVersion: string;
  /** `sendInitialEvents`, when given. */
  readonly sendInitialEvents: boolean | undefined;
  /** `allowWatchBookmarks`. */
  readonly bookmarks: boolean;
  /** `timeoutSeconds`, when given and not `0` (which the API server reads as unset). */
  readonly timeoutSeconds: number | undefined;
}

/** A watch that can be served from a shared upstream watch. */
export interface SharedWatchRequest {
  /** Equal for two requests exactly when one upstream watch can serve both. */
  readonly key: string;
  /** The list the shared watch starts from: the path with the shared parameters. */
  readonly listPath: string;
  /** A list of one item: its resourceVersion tells how far the cluster got. */
  readonly probePath: string;
  /** The path of the upstream watch from `resourceVersion` (always asking for bookmarks). */
  readonly watchPath: (resourceVersion: string) => string;
  readonly start: SubscriberStart;
}

/** What identifies a watch: the cluster, whose identity, and the request as the client sent it. */
export interface WatchRequestInput {
  readonly cluster: string;
  /** The identity key (see `identityKey`). */
  readonly identity: string;
  readonly accept: string | undefined;
  /** The path without the query. */
  readonly pathname: string;
  /** The query string, without `?`. */
  readonly query: string;
}

/** The parameters that say where each subscriber starts: never part of the key. */
const STARTING_RULES = new Set(['resourceVersion', 'resourceVersionMatch', 'sendInitialEvents', 'timeoutSeconds', 'allowWatchBookmarks']);

/** Parameters a watch ignores (the API server pages lists only) and the shared list must not take. */
const IGNORED = new Set(['limit']);

/** Go's `strconv.ParseBool`, which the API server parses these flags with. */
function parseBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

/**
 * The normalised `Accept`, or `undefined` for a media type other than JSON (protobuf and anything
 * else stream frames the proxy does not read). JSON, `*\/*` and Tables as JSON are shared.
 */
export function normalizeAccept(accept: string | undefined): string | undefined {
  const value = (accept ?? '').replace(/\s+/g, '').toLowerCase();
  if (value === '') return 'application/json';
  for (const range of value.split(',')) {
    const type = range.split(';')[0];
    if (type !== 'application/json' && type !== '*/*' && type !== 'application/*') return undefined;
  }
  return value;
}

function parseQuery(query: string): Map<string, string> | undefined {
  const params = new Map<string, string>();
  if (query === '') return params;
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent((eq === -1 ? part : part.slice(0, eq)).replace(/\+/g, ' '));
      value = eq === -1 ? '' : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '));
    } catch {
      return undefined;
    }
    // The API server reads the first of repeated parameters; rather than guess, such a watch is not shared.
    if (params.has(name)) return undefined;
    params.set(name, value);
  }
  return params;
}

/** The starting rules, or `undefined` where the API server would refuse them (it answers for itself). */
function startOf(params: Map<string, string>): SubscriberStart | undefined {
  const resourceVersion = params.get('resourceVersion') ?? '';
  if (resourceVersion !== '' && !/^\d{1,15}$/.test(resourceVersion)) return undefined;
  const flag = (name: string): boolean | undefined | null => {
    const value = params.get(name);
    if (value === undefined) return undefined;
    return parseBool(value) ?? null;
  };
  const bookmarks = flag('allowWatchBookmarks');
  const sendInitialEvents = flag('sendInitialEvents');
  if (bookmarks === null || sendInitialEvents === null) return undefined;
  const match = params.get('resourceVersionMatch') ?? '';
  // The API server's validation of the watch-list parameters: anything else is its 422 to give.
  if (sendInitialEvents === undefined ? match !== '' : match !== 'NotOlderThan') return undefined;
  if (sendInitialEvents === true && bookmarks !== true) return undefined;
  const timeout = params.get('timeoutSeconds');
  if (timeout !== undefined && !/^\d{1,9}$/.test(timeout)) return undefined;
  const timeoutSeconds = timeout === undefined || Number(timeout) === 0 ? undefined : Number(timeout);
  return { resourceVersion, sendInitialEvents, bookmarks: bookmarks ?? false, timeoutSeconds };
}

const encode = (entries: readonly (readonly [string, string])[]) => entries.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join('&');

/**
 * The shared form of a watch request, or `undefined` when it must go upstream on its own: not a
 * `watch=1`/`watch=true` query, a media type other than JSON, repeated or undecodable parameters,
 * a non-decimal resourceVersion, a `continue` token, or starting rules the API server would refuse.
 */
export function sharedWatchRequest(input: WatchRequestInput): SharedWatchRequest | undefined {
  const accept = normalizeAccept(input.accept);
  if (accept === undefined) return undefined;
  const params = parseQuery(input.query);
  if (!params) return undefined;
  const watch = params.get('watch')?.toLowerCase();
  if (watch !== '1' && watch !== 'true') return undefined;
  if (params.has('continue')) return undefined;
  const start = startOf(params);
  if (!start) return undefined;
  const shared = [...params].filter(([name]) => name !== 'watch' && !STARTING_RULES.has(name) && !IGNORED.has(name)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  let sharedQuery: string;
  try {
    sharedQuery = encode(shared);
  } catch {
    return undefined; // a lone surrogate has no URL form
  }
  return {
    key: JSON.stringify([input.cluster, input.identity, accept, input.pathname, sharedQuery]),
    listPath: sharedQuery === '' ? input.pathname : `${input.pathname}?${sharedQuery}`,
    probePath: `${input.pathname}?${encode([...shared, ['limit', '1']])}`,
    watchPath: (resourceVersion) =>
      `${input.pathname}?${encode([...shared, ['allowWatchBookmarks', 'true'], ['resourceVersion', resourceVersion], ['watch', 'true']])}`,
    start,
  };
}
