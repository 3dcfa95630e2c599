import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, upstreamRequestHeaders } from '../../src/proxy/headers.ts';

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
