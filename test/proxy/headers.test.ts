import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { removeHopByHopHeaders, removeImpersonationHeaders } from '../../src/proxy/headers.ts';

describe('removeHopByHopHeaders', () => {
  it('removes hop-by-hop headers and those named in Connection', () => {
    const headers: IncomingHttpHeaders = {
      connection: 'keep-alive, X-Secret',
      'keep-alive': 'timeout=5',
      'x-secret': 's',
      'proxy-authorization': 'Basic x',
      te: 'trailers',
      'transfer-encoding': 'chunked',
      accept: 'application/json',
    };
    removeHopByHopHeaders(headers, false);
    expect(headers).toEqual({ 'transfer-encoding': 'chunked', accept: 'application/json' });
  });

  it('keeps the upgrade handshake on an upgrade only', () => {
    const upgrade: IncomingHttpHeaders = { connection: 'keep-alive, Upgrade', upgrade: 'SPDY/3.1' };
    removeHopByHopHeaders(upgrade, true);
    expect(upgrade).toEqual({ connection: 'Upgrade', upgrade: 'SPDY/3.1' });
    const plain: IncomingHttpHeaders = { connection: 'Upgrade', upgrade: 'websocket' };
    removeHopByHopHeaders(plain, false);
    expect(plain).toEqual({});
  });
});

describe('removeImpersonationHeaders', () => {
  it('removes every Impersonate-* header', () => {
    const headers: IncomingHttpHeaders = {
      'impersonate-user': 'admin',
      'impersonate-group': 'system:masters',
      'impersonate-extra-scopes': 'x',
      'impersonate-uid': '1',
      accept: '*/*',
    };
    removeImpersonationHeaders(headers);
    expect(headers).toEqual({ accept: '*/*' });
  });
});
