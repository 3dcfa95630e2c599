import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CredentialsUnavailableError, RouteNotFoundError } from '../src/errors.ts';
import { kubernetesStatus, writeStatus, writeStatusToSocket } from '../src/status.ts';

describe('kubernetesStatus', () => {
  it('is the Status the API server would write, with the proxy code as the first cause', () => {
    expect(kubernetesStatus(new CredentialsUnavailableError('getToken() failed', { cluster: 'prod' }))).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'getToken() failed',
      reason: 'ServiceUnavailable',
      code: 503,
      details: { name: 'prod', kind: 'cluster', causes: [{ reason: 'ERR_CREDENTIALS_UNAVAILABLE', message: expect.any(String) }] },
    });
    expect(kubernetesStatus(new RouteNotFoundError('no route')).details).toEqual({ causes: [{ reason: 'ERR_ROUTE_NOT_FOUND', message: expect.any(String) }] });
  });
});

describe('writeStatus', () => {
  it('answers with the Status, its headers and the proxy error header', () => {
    const written: { status?: number; headers?: Record<string, unknown>; body?: string } = {};
    const res = {
      headersSent: false,
      writeHead(status: number, headers: Record<string, unknown>) {
        written.status = status;
        written.headers = headers;
      },
      end(body: string) {
        written.body = body;
      },
      destroy() {
        throw new Error('not expected');
      },
    };
    writeStatus(res as never, new CredentialsUnavailableError('down', { cluster: 'prod' }));
    expect(written.status).toBe(503);
    expect(written.headers).toMatchObject({ 'content-type': 'application/json', 'retry-after': '5', 'x-kube-cluster-proxy-error': 'ERR_CREDENTIALS_UNAVAILABLE' });
    expect(JSON.parse(written.body!)).toMatchObject({ code: 503, message: 'down' });
  });

  it('cuts a response that already began instead of writing a second head', () => {
    let destroyed = false;
    writeStatus({ headersSent: true, destroy: () => (destroyed = true) } as never, new RouteNotFoundError('x'));
    expect(destroyed).toBe(true);
  });
});

describe('writeStatusToSocket', () => {
  it('writes a whole HTTP/1.1 answer on the raw socket and ends it', async () => {
    const socket = new PassThrough();
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((resolve) => socket.on('end', resolve));
    writeStatusToSocket(socket, new RouteNotFoundError('no route'));
    await ended;
    const text = Buffer.concat(chunks).toString();
    const [head, body] = text.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
    expect(head).toContain('x-kube-cluster-proxy-error: ERR_ROUTE_NOT_FOUND');
    expect(head).toContain(`content-length: ${Buffer.byteLength(body!)}`);
    expect(head).toContain('connection: close');
    expect(JSON.parse(body!)).toMatchObject({ kind: 'Status', code: 404 });
  });
});
