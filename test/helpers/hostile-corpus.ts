import { random } from './raw-http.ts';

/** The clusters of the suite's proxy: the cluster's own token, the user's, and user-then-cluster. */
export type ClusterName = 'cc' | 'u' | 'ut';
export const CLUSTERS: readonly ClusterName[] = ['cc', 'u', 'ut'];

/** Secrets that must never appear in an answer, a log line or (for the cluster's) a user's request. */
export const CLUSTER_TOKEN = 'cluster-secret-4f1d2c9e';
export const USER_TOKEN = 'user-secret-7a3b5d1f';

/**
 * What a case must end in:
 * - `forwarded`: the one request reached the cluster, framed, and the cluster's answer came back;
 * - `refused`: the proxy answered with a `Status` and the cluster saw nothing of it;
 * - `any`: either of those, or a parser-level `4xx` from Node: the invariants alone decide.
 */
export type Expectation = 'forwarded' | 'refused' | 'any';

export interface Case {
  /** Unique; sent as `X-Case` so that the upstream can tell which request it saw. */
  id: string;
  what: string;
  raw: Buffer;
  expect: Expectation;
  /** Requests the client sent on the connection (pipelined cases send two). */
  requests: number;
  /** Body bytes the cluster must receive when the request is forwarded. */
  bodyBytes?: number;
  /** Node itself closes the connection without an answer (CONNECT without a `connect` listener). */
  silentClose?: boolean;
}

interface RequestSpec {
  method?: string;
  target?: string;
  cluster?: ClusterName;
  /** API path under the cluster. */
  path?: string;
  version?: string;
  /** Raw header lines, without CRLF. */
  headers?: string[];
  body?: string | Buffer;
  /** Add the user's token (default: for 'u' clusters). */
  token?: boolean;
}

let counter = 0;

/** Builds the raw bytes of one request: request line, `X-Case` first, `Connection: close` last. */
function build(spec: RequestSpec, id: string): Buffer {
  const cluster = spec.cluster ?? 'cc';
  const target = spec.target ?? `/clusters/${cluster}${spec.path ?? '/version'}`;
  const lines = [`${spec.method ?? 'GET'} ${target}${spec.version === '' ? '' : ` ${spec.version ?? 'HTTP/1.1'}`}`, `X-Case: ${id}`, 'Host: 127.0.0.1'];
  if (spec.token ?? cluster === 'u') lines.push(`Authorization: Bearer ${USER_TOKEN}`);
  lines.push(...(spec.headers ?? []), 'Connection: close');
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const body = spec.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(spec.body) ? spec.body : Buffer.from(spec.body, 'latin1');
  return Buffer.concat([head, body]);
}

function add(cases: Case[], what: string, spec: RequestSpec, expect: Expectation, extra: Partial<Case> = {}): void {
  const id = `c${++counter}`;
  cases.push({ id, what, raw: build(spec, id), expect, requests: 1, ...extra });
}

const SMUGGLED =
  'DELETE /api/v1/namespaces/default/pods/web-fake-2 HTTP/1.1\r\nHost: x\r\nImpersonate-User: eve\r\n' +
  'Impersonate-Group: system:masters\r\nContent-Length: 0\r\n\r\n';
const chunked = (text: string) => `${text.length.toString(16)}\r\n${text}\r\n0\r\n\r\n`;
const WS = ['Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='];
const EXEC = '/api/v1/namespaces/default/pods/p/exec?command=ls&stdout=true';
const b64 = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64url');
const latin1 = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

/** The hand-picked and generated corpus: the classes of the attack report and RFC 9112's framing edges. */
export function fixedCorpus(): Case[] {
  const cases: Case[] = [];
  const methods = ['GET', 'HEAD', 'DELETE', 'OPTIONS', 'POST', 'PUT', 'PATCH'];

  // 1. A body smuggled behind a Connection listing of the framing headers.
  for (const listing of ['content-length', 'Content-Length', 'keep-alive, content-length', 'transfer-encoding', 'Transfer-Encoding', 'close, transfer-encoding, x-a']) {
    for (const method of methods) {
      for (const cluster of CLUSTERS) {
        add(cases, `${method} ${cluster}: Connection: ${listing} + Content-Length body`, {
          method, cluster, headers: [`Connection: ${listing}`, `Content-Length: ${SMUGGLED.length}`], body: SMUGGLED,
        }, 'forwarded', { bodyBytes: SMUGGLED.length });
        add(cases, `${method} ${cluster}: Connection: ${listing} + chunked body`, {
          method, cluster, headers: [`Connection: ${listing}`, 'Transfer-Encoding: chunked'], body: chunked(SMUGGLED),
        }, 'forwarded', { bodyBytes: SMUGGLED.length });
      }
    }
  }

  // 2. Transfer-Encoding variants, with and without a Content-Length beside them (CL.TE, TE.CL).
  const encodings = ['chunked', 'Chunked', ' chunked', 'chunked, chunked', 'gzip, chunked', 'chunked, gzip', 'identity', 'xchunked', 'chunked\t', 'chunked;q=1', 'chunked ,', ',chunked', ''];
  for (const te of encodings) {
    for (const withLength of [false, true]) {
      for (const method of ['GET', 'POST']) {
        for (const cluster of CLUSTERS) {
          add(cases, `${method} ${cluster}: Transfer-Encoding: ${JSON.stringify(te)}${withLength ? ' + Content-Length' : ''}`, {
            method, cluster, headers: [`Transfer-Encoding: ${te}`, ...(withLength ? ['Content-Length: 6'] : [])], body: `0\r\n\r\n${SMUGGLED}`,
          }, 'any', { requests: 2 });
        }
      }
    }
  }
  for (const cluster of CLUSTERS) {
    add(cases, `${cluster}: two Transfer-Encoding headers`, { method: 'POST', cluster, headers: ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'], body: chunked('hello') }, 'any');
    add(cases, `${cluster}: Transfer-Encoding folded onto the next line`, { method: 'POST', cluster, headers: ['Transfer-Encoding:', ' chunked'], body: chunked('hello') }, 'any');
    add(cases, `${cluster}: chunk extension`, { method: 'POST', cluster, headers: ['Transfer-Encoding: chunked'], body: '5;ext=1\r\nhello\r\n0\r\n\r\n' }, 'forwarded', { bodyBytes: 5 });
    add(cases, `${cluster}: chunked with trailers`, { method: 'POST', cluster, headers: ['Transfer-Encoding: chunked'], body: '5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n' }, 'forwarded', { bodyBytes: 5 });
    add(cases, `${cluster}: a bad chunk size`, { method: 'POST', cluster, headers: ['Transfer-Encoding: chunked'], body: 'zz\r\nhello\r\n0\r\n\r\n' }, 'any');
    add(cases, `${cluster}: a chunk with a bare LF`, { method: 'POST', cluster, headers: ['Transfer-Encoding: chunked'], body: '5\nhello\n0\n\n' }, 'any');
  }

  // 3. Content-Length edges.
  const lengths: string[][] = [['5', '5'], ['5', '6'], ['5, 5'], ['5,6'], ['+5'], ['-1'], ['0x5'], ['5 '], ['05'], ['99999999999999999999'], [' 5'], ['5\t'], ['5.0'], ['']];
  for (const values of lengths) {
    for (const method of ['GET', 'POST']) {
      for (const cluster of ['cc', 'u'] as const) {
        add(cases, `${method} ${cluster}: Content-Length ${JSON.stringify(values)}`, {
          method, cluster, headers: values.map((v) => `Content-Length: ${v}`), body: 'hello',
        }, 'any');
      }
    }
  }

  // 4. Line breaks, folding and NUL in headers.
  const lines = [
    ['X-A: a', ' b'], ['X-A: a\rb'], ['X-A: a\nX-B: b'], ['X-A\0: b'], ['X-A: \0'], [`Authorization: Bearer ${USER_TOKEN}`, ' more'],
    ['Host : x'], ['Content-Length : 5'], ['X\tA: b'], [`${latin1('Ünicode')}: b`], [`X-A: ${latin1('Ünicode ✓')}`], ['NoColon'],
    [': empty name'], ['X-A: a\r\r\nX-B: b'], ['X-A:a'], [' X-Leading: space'], ['X-A: \x7f'], ['X-A: \x01'],
    ['Impersonate-User: eve', ' Impersonate-Group: system:masters'], [`X-Long: ${'a'.repeat(8000)}`],
  ];
  for (const headers of lines) {
    for (const method of ['GET', 'POST']) {
      for (const cluster of ['cc', 'u'] as const) {
        add(cases, `${method} ${cluster}: header lines ${JSON.stringify(headers).slice(0, 60)}`, {
          method, cluster, headers: [...headers, ...(method === 'POST' ? ['Content-Length: 2'] : [])], body: method === 'POST' ? '{}' : undefined,
        }, 'any');
      }
    }
  }

  // 5. Oversized requests.
  for (const cluster of ['cc', 'u'] as const) {
    add(cases, `${cluster}: a 17 KiB header`, { cluster, headers: [`X-Big: ${'a'.repeat(17 * 1024)}`] }, 'any');
    add(cases, `${cluster}: a 70 KiB header`, { cluster, headers: [`X-Big: ${'a'.repeat(70 * 1024)}`] }, 'any');
    add(cases, `${cluster}: a 20 KiB target`, { cluster, path: `/version?${'q'.repeat(20 * 1024)}` }, 'any');
    add(cases, `${cluster}: 1,000 headers`, { cluster, headers: Array.from({ length: 1000 }, (_, i) => `X-H${i}: v`) }, 'any');
    add(cases, `${cluster}: a 10 KiB bearer token`, { cluster, token: false, headers: [`Authorization: Bearer ${'t'.repeat(10 * 1024)}`] }, 'any');
    add(cases, `${cluster}: a 1 MiB body`, { method: 'POST', cluster, headers: [`Content-Length: ${1024 * 1024}`], body: Buffer.alloc(1024 * 1024, 0x61) }, 'forwarded', { bodyBytes: 1024 * 1024 });
  }

  // 6. Request lines.
  const requestLines: [string, RequestSpec, Expectation][] = [
    ['absolute-form', { target: 'http://evil.example/clusters/cc/version' }, 'any'],
    ['absolute-form to self', { target: 'http://127.0.0.1/clusters/cc/version' }, 'any'],
    ['double slash', { target: '//clusters/cc/version' }, 'any'],
    ['asterisk-form', { method: 'OPTIONS', target: '*' }, 'any'],
    ['CONNECT', { method: 'CONNECT', target: '127.0.0.1:443' }, 'any'],
    ['TRACE', { method: 'TRACE' }, 'refused'],
    ['TRACK', { method: 'TRACK' }, 'any'],
    ['lowercase get', { method: 'get' }, 'any'],
    ['mixed-case Get', { method: 'Get' }, 'any'],
    ['M-SEARCH', { method: 'M-SEARCH' }, 'any'],
    ['PROPFIND', { method: 'PROPFIND' }, 'refused'],
    ['PURGE', { method: 'PURGE' }, 'any'],
    ['no version (HTTP/0.9)', { version: '' }, 'any'],
    ['HTTP/1.0', { version: 'HTTP/1.0' }, 'forwarded'],
    ['HTTP/1.2', { version: 'HTTP/1.2' }, 'any'],
    ['HTTP/2.0', { version: 'HTTP/2.0' }, 'any'],
    ['HTTP/0.9', { version: 'HTTP/0.9' }, 'any'],
    ['lowercase version', { version: 'http/1.1' }, 'any'],
    ['extra word', { version: 'HTTP/1.1 extra' }, 'any'],
    ['two spaces', { target: ` /clusters/cc/version` }, 'any'],
    ['a fragment', { path: '/version#frag' }, 'any'],
    ['raw space in target', { path: '/ver sion' }, 'any'],
    ['raw high bytes in target', { path: `/ver${latin1('ß')}` }, 'any'],
    ['encoded NUL', { path: '/api/%00' }, 'any'],
    ['tab in target', { path: '/api\t/v1' }, 'any'],
    ['a query only', { path: '?x=1' }, 'any'],
    ['a mount path in capitals', { target: '/CLUSTERS/cc/version' }, 'any'],
    ['a mount path with a trailing dot', { target: '/clusters./cc/version' }, 'any'],
    ['cluster with dot-dot', { target: '/clusters/../clusters/cc/version' }, 'refused'],
    ['path with encoded dot-dot', { path: '/api/%2e%2e/%2e%2e/version' }, 'refused'],
  ];
  for (const [what, spec, expect] of requestLines) {
    for (const cluster of CLUSTERS) {
      add(cases, `${cluster}: request line: ${what}`, { ...spec, cluster, target: spec.target?.replace('/cc/', `/${cluster}/`) }, expect, { silentClose: spec.method === 'CONNECT' });
    }
  }
  add(cases, 'the HTTP/2 preface', { method: 'PRI', target: '*', version: 'HTTP/2.0', body: 'SM\r\n\r\n' }, 'any');

  // 7. Authorization headers.
  const bearers = ['', ' ', 'a b', 'tok\x7f', 'tok\x80', 'tok\xff', latin1('Āpple'), 'tok,en', 'tok;en', '"quoted"', 'Bearer x', `${USER_TOKEN} `, `  ${USER_TOKEN}`, 'x\ty'];
  for (const token of bearers) {
    for (const cluster of CLUSTERS) {
      add(cases, `${cluster}: Authorization: Bearer ${JSON.stringify(token)}`, { cluster, token: false, headers: [`Authorization: Bearer ${token}`] }, 'any');
      add(cases, `${cluster}: upgrade with Authorization: Bearer ${JSON.stringify(token)}`, {
        cluster, path: EXEC, token: false, headers: [`Authorization: Bearer ${token}`, 'Connection: Upgrade', ...WS, 'Sec-WebSocket-Protocol: v4.channel.k8s.io'],
      }, 'any');
    }
  }
  for (const cluster of CLUSTERS) {
    for (const value of ['Basic dTpw', 'Negotiate abc', 'bearer', 'BEARER  tok', 'Bearer', 'Bearer a b']) {
      add(cases, `${cluster}: Authorization: ${value}`, { cluster, token: false, headers: [`Authorization: ${value}`] }, 'any');
    }
    add(cases, `${cluster}: two Authorization headers`, { cluster, token: false, headers: [`Authorization: Bearer ${USER_TOKEN}`, 'Authorization: Bearer other'] }, 'any');
  }

  // 8. Cookies, with a same-host Origin (as a browser would send them).
  const cookies = ['cluster-token=%C4%80', 'cluster-token=%00', 'cluster-token=%0d%0a', 'cluster-token=chunks:2', 'cluster-token=chunks:99', 'cluster-token=chunks:0',
    '=x', 'cluster-token="x"', 'cluster-token=a b', `cluster-token=${latin1('Ā')}`, `cluster-token=${'t'.repeat(10 * 1024)}`, `cluster-token=${USER_TOKEN}`,
    'cluster-token=chunks:1; cluster-token.0=%C4%80'];
  for (const cookie of cookies) {
    for (const cluster of ['u', 'ut'] as const) {
      add(cases, `${cluster}: Cookie ${JSON.stringify(cookie).slice(0, 50)}`, { cluster, token: false, headers: [`Cookie: ${cookie}`, 'Origin: http://127.0.0.1'] }, 'any');
      add(cases, `${cluster}: upgrade with Cookie ${JSON.stringify(cookie).slice(0, 50)}`, {
        cluster, path: EXEC, token: false, headers: [`Cookie: ${cookie}`, 'Origin: http://127.0.0.1', 'Connection: Upgrade', ...WS, 'Sec-WebSocket-Protocol: v4.channel.k8s.io'],
      }, 'any');
    }
  }

  // 9. Subprotocols.
  const P = 'base64url.bearer.authorization.k8s.io';
  const protocols = [
    `${P}.xIA, v4.channel.k8s.io`, `${P}${b64(USER_TOKEN)}, v4.channel.k8s.io`, `${P}.${b64('a')}, ${P}.${b64('b')}, v4.channel.k8s.io`, `${P}.${b64(USER_TOKEN)}`,
    `${P}.YQ==, v4.channel.k8s.io`, `${P}., v4.channel.k8s.io`, `${P}.${Buffer.from('\xfb\xff', 'latin1').toString('base64')}, v4.channel.k8s.io`,
    `${P}.${b64(Buffer.from([0x80]))}, v4.channel.k8s.io`, 'v4.channel.k8s.io, , ,', 'a b', `${P.toUpperCase()}.${b64(USER_TOKEN)}, v4.channel.k8s.io`,
    `${P}.${b64(USER_TOKEN)}, v4.channel.k8s.io`, `v4.channel.k8s.io, ${P}.${b64('x y')}`, `${P}.${b64(USER_TOKEN)}, ${latin1('vß.channel')}`,
  ];
  for (const protocol of protocols) {
    for (const cluster of CLUSTERS) {
      add(cases, `${cluster}: Sec-WebSocket-Protocol ${JSON.stringify(protocol).slice(0, 70)}`, {
        cluster, path: EXEC, token: false, headers: ['Connection: Upgrade', ...WS, `Sec-WebSocket-Protocol: ${protocol}`],
      }, 'any');
    }
  }

  // 10. Upgrades.
  const upgrades: [string, string[], string | undefined, Expectation][] = [
    ['with a Content-Length body', ['Connection: Upgrade', ...WS, 'Content-Length: 5'], 'hello', 'refused'],
    ['with a chunked body', ['Connection: Upgrade', ...WS, 'Transfer-Encoding: chunked'], chunked('hello'), 'any'],
    ['h2c', ['Connection: Upgrade, HTTP2-Settings', 'Upgrade: h2c', 'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA'], undefined, 'any'],
    ['Connection: x-upgrade', ['Connection: x-upgrade', ...WS], undefined, 'any'],
    ['Connection: upgrade without Upgrade', ['Connection: upgrade'], undefined, 'any'],
    ['SPDY/3.1', ['Connection: Upgrade', 'Upgrade: SPDY/3.1', 'X-Stream-Protocol-Version: v4.channel.k8s.io'], undefined, 'any'],
    ['spdy/3.1 lowercase', ['Connection: Upgrade', 'Upgrade: spdy/3.1'], undefined, 'any'],
    ['tls/1.0', ['Connection: Upgrade', 'Upgrade: TLS/1.0'], undefined, 'any'],
    ['websocket, h2c', ['Connection: Upgrade', 'Upgrade: websocket, h2c'], undefined, 'any'],
    ['no Sec-WebSocket-Key', ['Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Protocol: v4.channel.k8s.io'], undefined, 'any'],
    ['with Impersonate headers', ['Connection: Upgrade', ...WS, 'Impersonate-User: eve', 'Impersonate-Group: system:masters', 'Sec-WebSocket-Protocol: v4.channel.k8s.io'], undefined, 'any'],
    ['with Expect', ['Connection: Upgrade', ...WS, 'Expect: 100-continue', 'Sec-WebSocket-Protocol: v4.channel.k8s.io'], undefined, 'any'],
    ['a websocket upgrade', ['Connection: Upgrade', ...WS, 'Sec-WebSocket-Protocol: v4.channel.k8s.io'], undefined, 'any'],
  ];
  for (const [what, headers, body, expect] of upgrades) {
    for (const cluster of CLUSTERS) {
      for (const method of ['GET', 'POST', 'HEAD']) add(cases, `${method} ${cluster}: upgrade ${what}`, { method, cluster, path: EXEC, headers, body }, expect);
    }
  }

  // 11. Headers a client must not pass through to a cluster's own identity.
  const borrowed = [
    ['Impersonate-User: eve'], ['Impersonate-Group: system:masters'], ['Impersonate-Extra-Scopes: all'], ['Impersonate-Uid: 0'], ['IMPERSONATE-USER: eve'],
    ['Connection: authorization'], ['Connection: impersonate-user', 'Impersonate-User: eve'], ['Proxy-Authorization: Basic x'], ['X-Forwarded-For: 1.2.3.4'],
    ['Cookie: session=1'], ['Host: evil.example'], ['Host: a', 'Host: b'], [`Host: ${latin1('ñ')}`], ['Keep-Alive: timeout=1'], ['TE: trailers'], ['Trailer: X-T'],
    ['Upgrade: websocket'], ['Connection: keep-alive, Upgrade'], ['Expect: 100-continue', 'Content-Length: 2'], ['Expect: foo'],
  ];
  for (const headers of borrowed) {
    for (const cluster of CLUSTERS) {
      add(cases, `${cluster}: ${headers.join(' / ')}`, { method: headers.some((h) => h.startsWith('Content-Length')) ? 'POST' : 'GET', cluster, headers, body: headers.some((h) => h.startsWith('Content-Length')) ? '{}' : undefined }, 'any');
    }
  }

  // 12. Pipelined requests: the second must be a request of its own, never glued to the first.
  for (const cluster of CLUSTERS) {
    const first = `c${++counter}`;
    const raw = Buffer.concat([
      Buffer.from(`POST /clusters/${cluster}/version HTTP/1.1\r\nX-Case: ${first}\r\nHost: x\r\n${cluster === 'u' ? `Authorization: Bearer ${USER_TOKEN}\r\n` : ''}Content-Length: 2\r\n\r\n{}`),
      Buffer.from(`GET /clusters/${cluster}/version HTTP/1.1\r\nX-Case: ${first}\r\nHost: x\r\n${cluster === 'u' ? `Authorization: Bearer ${USER_TOKEN}\r\n` : ''}Connection: close\r\n\r\n`),
    ]);
    cases.push({ id: first, what: `${cluster}: two pipelined requests`, raw, expect: 'any', requests: 2 });
  }
  return cases;
}

/**
 * Random mutations of valid requests: bytes inserted, removed or doubled in the request line and
 * headers (never in the `X-Case` and `Connection: close` lines, so that every case stays
 * attributable and closes).
 */
export function randomCorpus(seed: number, count: number): Case[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const bytes = ['\r', '\n', '\r\n', '\0', ' ', '\t', ':', ',', '\x80', '\xff', '\x7f', '%', '/', '..', '\r\n ', 'Connection: content-length\r\n'];
  const headers = ['Impersonate-User: eve', 'Expect: 100-continue', 'Upgrade: websocket', 'Connection: Upgrade', 'Cookie: cluster-token=%C4%80', 'Origin: http://127.0.0.1',
    `Sec-WebSocket-Protocol: base64url.bearer.authorization.k8s.io.xIA, v4.channel.k8s.io`, 'Authorization: Bearer \x80', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13'];
  const cases: Case[] = [];
  for (let i = 0; i < count; i++) {
    const id = `r${seed}-${i}`;
    const cluster = pick(CLUSTERS);
    const lines = [`${pick(['GET', 'POST', 'DELETE', 'PUT'])} /clusters/${cluster}${pick(['/version', '/api/v1/pods', EXEC, '/apis/apps/v1/namespaces/x/deployments'])} HTTP/1.1`, 'Host: 127.0.0.1'];
    if (cluster !== 'cc' || next() < 0.3) lines.push(`Authorization: Bearer ${USER_TOKEN}`);
    for (let h = Math.floor(next() * 3); h > 0; h--) lines.push(pick(headers));
    let text = lines.join('\r\n');
    for (let m = 1 + Math.floor(next() * 3); m > 0; m--) {
      const at = Math.floor(next() * text.length);
      const kind = next();
      if (kind < 0.6) text = text.slice(0, at) + pick(bytes) + text.slice(at);
      else if (kind < 0.8) text = text.slice(0, at) + text.slice(at + 1);
      else text = text.slice(0, at) + text.slice(at, at + 8) + text.slice(at);
    }
    // The case marker goes right after the first line, which may itself be mangled.
    const firstBreak = text.indexOf('\r\n');
    const head = firstBreak === -1 ? `${text}\r\nX-Case: ${id}` : `${text.slice(0, firstBreak)}\r\nX-Case: ${id}${text.slice(firstBreak)}`;
    cases.push({ id, what: `random mutation (seed ${seed}, #${i}): ${JSON.stringify(head).slice(0, 160)}`, raw: Buffer.from(`${head}\r\nConnection: close\r\n\r\n`, 'latin1'), expect: 'any', requests: 2 });
  }
  return cases;
}
