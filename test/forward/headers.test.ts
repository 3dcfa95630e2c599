import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, connectionTokens, hasRequestBody, upstreamRequestHeaders } from '../../src/forward/headers.ts';

describe('upstreamRequestHeaders', () => {
  it('leaves out hop-by-hop headers, those named in Connection, cookies, Authorization and the subprotocol header', () => {
    const headers: IncomingHttpHeaders = {
      connection: 'keep-alive, X-Secret',
      'keep-alive': 'timeout=5',
      'x-secret': 's',
      'proxy-authorization': 'Basic x',
      te: 'trailers',
      cookie: 'session=1',
      authorization: 'Bearer user',
      'sec-websocket-protocol': 'v4.channel.k8s.io',
      'transfer-encoding': 'chunked',
      accept: 'application/json',
      'impersonate-user': 'jane',
    };
    expect(upstreamRequestHeaders(headers, { upgrade: false, dropImpersonation: false })).toEqual({
      'transfer-encoding': 'chunked',
      accept: 'application/json',
      'impersonate-user': 'jane',
    });
    expect(headers.cookie).toBe('session=1'); // the client's parsed headers are left as they were
  });

  it('keeps the upgrade handshake on an upgrade only', () => {
    const upgrade: IncomingHttpHeaders = { connection: 'keep-alive, Upgrade', upgrade: 'SPDY/3.1' };
    expect(upstreamRequestHeaders(upgrade, { upgrade: true, dropImpersonation: false })).toEqual({ connection: 'Upgrade', upgrade: 'SPDY/3.1' });
    expect(upstreamRequestHeaders({ connection: 'Upgrade', upgrade: 'websocket' }, { upgrade: false, dropImpersonation: false })).toEqual({});
  });

  it('drops every Impersonate-* header when asked', () => {
    const headers: IncomingHttpHeaders = {
      'impersonate-user': 'admin',
      'impersonate-group': 'system:masters',
      'impersonate-extra-scopes': 'x',
      'impersonate-uid': '1',
      accept: '*/*',
    };
    expect(upstreamRequestHeaders(headers, { upgrade: false, dropImpersonation: true })).toEqual({ accept: '*/*' });
  });
});

describe('clientResponseHeaders', () => {
  it("leaves out the cluster's hop-by-hop headers", () => {
    expect(
      clientResponseHeaders({ connection: 'keep-alive, x-hop', 'keep-alive': 'timeout=5', 'x-hop': '1', 'content-type': 'application/json', 'content-length': '2' }),
    ).toEqual({ 'content-type': 'application/json', 'content-length': '2' });
  });
});

describe('message framing', () => {
  it('is never removed by a Connection listing, and is set from what Node parsed', () => {
    const listed: IncomingHttpHeaders = { connection: 'content-length, Transfer-Encoding', 'content-length': '148', accept: '*/*' };
    expect(upstreamRequestHeaders(listed, { upgrade: false, dropImpersonation: false })).toEqual({ 'content-length': '148', accept: '*/*' });
    const chunked: IncomingHttpHeaders = { connection: 'transfer-encoding', 'transfer-encoding': 'Chunked' };
    expect(upstreamRequestHeaders(chunked, { upgrade: false, dropImpersonation: false })).toEqual({ 'transfer-encoding': 'chunked' });
  });

  it('an upgrade carries no framing and no Expect', () => {
    const upgrade: IncomingHttpHeaders = { connection: 'Upgrade', upgrade: 'websocket', 'content-length': '0', expect: '100-continue' };
    expect(upstreamRequestHeaders(upgrade, { upgrade: true, dropImpersonation: false })).toEqual({ connection: 'Upgrade', upgrade: 'websocket' });
  });

  it('Expect and HTTP2-Settings stay with the client', () => {
    expect(upstreamRequestHeaders({ expect: '100-continue', 'http2-settings': 'AA', 'content-length': '2' }, { upgrade: false, dropImpersonation: false })).toEqual({
      'content-length': '2',
    });
  });

  it('hasRequestBody follows Node: a length above zero or a chunked body', () => {
    expect(hasRequestBody({})).toBe(false);
    expect(hasRequestBody({ 'content-length': '0' })).toBe(false);
    expect(hasRequestBody({ 'content-length': '5' })).toBe(true);
    expect(hasRequestBody({ 'transfer-encoding': 'chunked' })).toBe(true);
  });
});

describe('connectionTokens', () => {
  it.each([
    [undefined, []],
    ['', []],
    ['close', ['close']],
    ['Keep-Alive, Upgrade', ['keep-alive', 'upgrade']],
    [' x-upgrade ,, close ', ['x-upgrade', 'close']],
    [['a', 'B'], ['a,b'.split(',')[0], 'b']],
  ] as const)('%j -> %j', (header, tokens) => {
    expect([...connectionTokens(header as string | string[] | undefined)]).toEqual(tokens);
  });

  it('x-upgrade is not upgrade', () => {
    expect(connectionTokens('x-upgrade').has('upgrade')).toBe(false);
  });
});
