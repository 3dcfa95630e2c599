import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerSubprotocol, type AuditEvent, type ProxyErrorEvent } from 'kube-cluster-proxy';
import { prometheusMetrics } from 'kube-cluster-proxy/metrics';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { send, startProxyHost, type ProxyHost } from '../helpers/servers.ts';
import { execQuery, runChannelSession } from '../helpers/websocket.ts';

/** A distinctive token, valid at the fake, planted everywhere a client can put one. */
const TOKEN = randomBytes(32).toString('base64url');
const FORMS = [TOKEN, Buffer.from(TOKEN).toString('base64url'), Buffer.from(TOKEN).toString('base64'), encodeURIComponent(TOKEN)];
const SVC = randomBytes(32).toString('base64url');
const POD = '/api/v1/namespaces/default/pods/web-plant-1';

let fake: FakeCluster;
let host: ProxyHost;
let dir: string;
const audits: AuditEvent[] = [];
const errors: ProxyErrorEvent[] = [];
const logLines: string[] = [];
const metrics = prometheusMetrics();

/** Every header a client might carry a credential in, each with the token. */
const plantedHeaders = (): Record<string, string> => ({
  authorization: `Bearer ${TOKEN}`,
  'proxy-authorization': `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}`,
  cookie: `cluster-token-users=${TOKEN}; cluster-token=${TOKEN}; session=${TOKEN}`,
  'x-api-key': TOKEN,
  'x-auth-token': TOKEN,
  'x-forwarded-for': TOKEN,
  referer: `https://dash.example/?token=${TOKEN}`,
  'user-agent': `dashboard/1.0 ${TOKEN}`,
});
const plantedQuery = `access_token=${TOKEN}&token=${TOKEN}&labelSelector=app%3D${TOKEN}&x-token=${TOKEN}`;
const ws = (path: string) => `${host.url.replace('http', 'ws')}/clusters/${path}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kcp-plant-'));
  fake = await startFakeCluster({ name: 'plant', tokens: { [TOKEN]: { user: 'alice', groups: ['devs'] }, [SVC]: 'svc' } });
  const recordSessions = { directory: dir };
  host = await startProxyHost({
    clusters: [
      { ...fake.clusterConfig('users'), recordSessions },
      { ...fake.clusterConfig('own', { token: SVC }), recordSessions },
      { ...fake.clusterConfig('ro'), policy: { readOnly: true } },
      { ...fake.clusterConfig('down'), server: 'https://127.0.0.1:9' },
    ],
    on: [metrics.hooks, { audit: (event) => void audits.push(event), error: (event) => void errors.push(event) }],
    logger: { warn: (...args: unknown[]) => void logLines.push(format(...args)), error: (...args: unknown[]) => void logLines.push(format(...args)) },
  });
});
afterAll(async () => {
  await host.close();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('token planting', () => {
  it('finds no planted token in audit events, metrics, log lines, error events or recordings', async () => {
    const headers = plantedHeaders();
    const http = [
      // Answered by the cluster: a get, a list, a 404.
      [`users${POD}?${plantedQuery}`, 200],
      [`users/api/v1/namespaces/default/pods?${plantedQuery}`, 200],
      [`users/api/v1/namespaces/default/pods/missing-${TOKEN.slice(0, 5)}?${plantedQuery}`, 404],
      // Refused by the proxy: an unknown cluster, a policy, an unreachable cluster, a mount path mistake.
      [`nowhere/version?${plantedQuery}`, 404],
      [`ro${POD}?${plantedQuery}&dryRun=All`, 403, 'DELETE'],
      [`down/version?${plantedQuery}`, 502],
    ] as const;
    for (const [path, status, method] of http) {
      const res = await send(`${host.url}/clusters/${path}`, { method: method ?? "GET", headers });
      expect(res.status, res.body).toBe(status);
    }
    // Forwarded in 'user' mode for the cluster to judge (alice may not impersonate): the cluster's 403.
    expect((await send(`${host.url}/clusters/users${POD}`, { headers: { ...headers, 'impersonate-user': TOKEN } })).status).toBe(403);
    // No other credential: the cookie alone.
    expect((await send(`${host.url}/clusters/users${POD}`, { headers: { cookie: `cluster-token=${TOKEN}` } })).status).toBe(200);

    // WebSocket: the token as the bearer subprotocol, in the query, a cookie, headers, and an argument of the command.
    const wsHeaders = { ...headers };
    delete wsHeaders.authorization;
    const command = ['sh', '-c', 'echo planted', TOKEN, `--token=${TOKEN}`];
    const exec = (cluster: string) => `${cluster}${POD}/exec?${execQuery(command)}&${plantedQuery}`;
    const users = await runChannelSession(ws(exec('users')), ['v5.channel.k8s.io', bearerSubprotocol(TOKEN)], { headers: wsHeaders });
    expect(users.ok).toBe(true);
    const own = await runChannelSession(ws(exec('own')), ['v4.channel.k8s.io', bearerSubprotocol(TOKEN)], { headers });
    expect(own.ok).toBe(true);
    const denied = await runChannelSession(ws(exec('ro')), ['v5.channel.k8s.io', bearerSubprotocol(TOKEN)], { headers: wsHeaders });
    expect(denied).toMatchObject({ ok: false, status: 403 });

    for (let i = 0; i < 200 && audits.length < 11; i++) await new Promise((r) => setTimeout(r, 10));
    expect(audits.map((e) => e.code)).toEqual([200, 200, 404, 404, 403, 502, 403, 200, 101, 101, 403]);
    // Redacted, not dropped: the command is on record with the token replaced.
    expect(audits[8]!.command).toEqual(['sh', '-c', 'echo planted', '[redacted]', '--token=[redacted]']);

    const metricsText = await metrics.registry.metrics();
    expect(metricsText).toContain('requests_total');
    const recordings = readdirSync(dir).map((file) => readFileSync(join(dir, file), 'utf8'));
    expect(recordings).toHaveLength(2);
    expect(recordings.join('')).toContain('planted');

    const outputs: [string, string][] = [
      ['audit events', audits.map((e) => JSON.stringify(e)).join('\n')],
      ['metrics', metricsText],
      ['log lines', logLines.join('\n')],
      ['error events', errors.map((e) => `${e.error.message} ${JSON.stringify({ ...e, error: e.error.code })}`).join('\n')],
      ['recordings', recordings.join('\n')],
    ];
    for (const [what, text] of outputs) {
      for (const form of FORMS) expect(text.includes(form), `${what} contain the token (${form.slice(0, 8)}…)`).toBe(false);
    }
  });
});
