import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { parseRaw, send, sendRaw, startProxyHost, type ProxyHost } from '../helpers/servers.ts';

let fake: FakeCluster;
let proxy: ProxyHost;

beforeAll(async () => {
  fake = await startFakeCluster({ name: 'm', tokens: { 'alice-token': 'alice', 'svc-token': 'svc' } });
  proxy = await startProxyHost({
    clusters: [
      { name: 'prod', server: fake.url, ca: fake.ca },
      { name: 'own', server: fake.url, ca: fake.ca, credentials: { token: 'svc-token' } },
    ],
  });
});
afterAll(async () => {
  await proxy.close();
  await fake.close();
});
beforeEach(() => fake.clearRequests());

const token = (value: string | Buffer) => `base64url.bearer.authorization.k8s.io.${Buffer.from(value).toString('base64url')}`;
const WS = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
const EXEC = '/clusters/prod/api/v1/namespaces/default/pods/web-m-1/exec?command=ls&stdout=true';

/** [what, raw request line + headers (without the final CRLF), expected status] */
const cases: [string, string, number][] = [
  ['no cluster in the path', 'GET /clusters HTTP/1.1', 400],
  ['an empty cluster segment', 'GET /clusters/ HTTP/1.1', 400],
  ['an empty cluster before the path', 'GET /clusters//api HTTP/1.1', 400],
  ['a dot-dot cluster', 'GET /clusters/../etc/passwd HTTP/1.1', 400],
  ['an encoded dot-dot cluster', 'GET /clusters/%2e%2e/api HTTP/1.1', 400],
  ['an encoded slash in the cluster', 'GET /clusters/prod%2Fown/api HTTP/1.1', 400],
  ['a NUL in the cluster', 'GET /clusters/pr%00od/api HTTP/1.1', 400],
  ['bad percent-encoding in the cluster', 'GET /clusters/%zz/api HTTP/1.1', 400],
  ['an overlong cluster name', `GET /clusters/${'a'.repeat(300)}/api HTTP/1.1`, 400],
  ['dot-dot segments in the path', 'GET /clusters/prod/api/../../../k8s/clusters/other HTTP/1.1', 400],
  ['encoded dot-dot in the path', 'GET /clusters/prod/api/%2E%2E/%2e%2e/x HTTP/1.1', 400],
  ['an encoded slash in the path', 'GET /clusters/prod/api%2F..%2Fx HTTP/1.1', 400],
  ['a backslash in the path', 'GET /clusters/prod/api\\..\\x HTTP/1.1', 400],
  ['bad percent-encoding in the path', 'GET /clusters/prod/api/%E0%A4%A HTTP/1.1', 400],
  ['an absolute-form target', 'GET http://evil.example/clusters/prod/api HTTP/1.1', 400],
  ['an unknown cluster', 'GET /clusters/nope/api HTTP/1.1', 404],
  ['a method the API does not have', 'TRACE /clusters/own/api HTTP/1.1', 405],
  ['a WebDAV method', 'PROPFIND /clusters/own/api HTTP/1.1', 405],
  ['an empty bearer token', 'GET /clusters/prod/api HTTP/1.1\r\nAuthorization: Bearer', 400],
  ['a bearer token with a space', 'GET /clusters/prod/api HTTP/1.1\r\nAuthorization: Bearer abc def', 400],
  ['no user credentials', 'GET /clusters/prod/api HTTP/1.1', 401],
  ['a Basic Authorization header only', 'GET /clusters/prod/api HTTP/1.1\r\nAuthorization: Basic YWxpY2U6cHc=', 401],
  ['a cookie with bad percent-encoding', 'GET /clusters/prod/api HTTP/1.1\r\nCookie: cluster-token=%ZZ', 400],
  ['a chunked cookie missing a chunk', 'GET /clusters/prod/api HTTP/1.1\r\nCookie: cluster-token=chunks:3; cluster-token.0=a', 400],
  ['a cookie from a foreign origin', 'POST /clusters/prod/api HTTP/1.1\r\nCookie: cluster-token=alice-token\r\nOrigin: https://evil.example', 403],
  ['two subprotocol tokens', `GET ${EXEC} HTTP/1.1\r\n${WS}Sec-WebSocket-Protocol: ${token('a')}, ${token('b')}, v4.channel.k8s.io`, 400],
  ['a subprotocol token alone', `GET ${EXEC} HTTP/1.1\r\n${WS}Sec-WebSocket-Protocol: ${token('alice-token')}`, 400],
  ['a subprotocol token that is not base64', `GET ${EXEC} HTTP/1.1\r\n${WS}Sec-WebSocket-Protocol: base64url.bearer.authorization.k8s.io.***, v4.channel.k8s.io`, 400],
  ['a subprotocol token that is not UTF-8', `GET ${EXEC} HTTP/1.1\r\n${WS}Sec-WebSocket-Protocol: ${token(Buffer.from([0xc3, 0x28]))}, v4.channel.k8s.io`, 400],
  ['a padded subprotocol token', `GET ${EXEC} HTTP/1.1\r\n${WS}Sec-WebSocket-Protocol: base64url.bearer.authorization.k8s.io.YQ==, v4.channel.k8s.io`, 400],
  ['an empty subprotocol token', `GET ${EXEC} HTTP/1.1\r\n${WS}Sec-WebSocket-Protocol: base64url.bearer.authorization.k8s.io., v4.channel.k8s.io`, 400],
  ['an upgrade without any credentials', `GET ${EXEC} HTTP/1.1\r\n${WS}Sec-WebSocket-Protocol: v4.channel.k8s.io`, 401],
  ['a cookie upgrade without Origin', `GET ${EXEC} HTTP/1.1\r\n${WS}Cookie: cluster-token=alice-token`, 403],
  ['a cookie upgrade from a foreign origin', `GET ${EXEC} HTTP/1.1\r\n${WS}Cookie: cluster-token=alice-token\r\nOrigin: http://evil.example`, 403],
  ['an upgrade to an unknown cluster', `GET /clusters/nope/api HTTP/1.1\r\n${WS}`, 404],
  ['an upgrade with a dot-dot path', `GET /clusters/prod/../own/api HTTP/1.1\r\n${WS}`, 400],
  ['an upgrade with a bad method', `PROPFIND /clusters/own/api HTTP/1.1\r\n${WS}`, 405],
];

describe('malformed and refused input', () => {
  it(`covers at least 25 inputs (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  it.each(cases)('%s: a Status, nothing upstream', async (_what, head, expected) => {
    const raw = await sendRaw(proxy.url, `${head}\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n`);
    const { status, body } = parseRaw(raw);
    expect(status).toBe(expected);
    expect(raw).toMatch(/content-type: application\/json/i);
    expect(body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: expected, details: { causes: [{ reason: expect.stringMatching(/^ERR_/) }] } });
    const code = (body as { details: { causes: [{ reason: string }] } }).details.causes[0].reason;
    expect(raw.toLowerCase()).toContain(`x-kube-cluster-proxy-error: ${code.toLowerCase()}`);
    expect(JSON.stringify(body)).not.toContain('alice-token');
    expect(fake.requests).toHaveLength(0);
  });

  it('still serves good requests after all of them', async () => {
    const res = await send(`${proxy.url}/clusters/own/version`);
    expect(res.status).toBe(200);
  });
});
