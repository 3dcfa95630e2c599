import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen, startProxyHost, type ProxyHost } from '../helpers/servers.ts';
import { openWatch } from '../helpers/watch-client.ts';

// An aggregated API whose resourceVersions are not decimal integers: its watches cannot be
// shared, and must reach it as the client sent them.

const PATH = '/apis/metrics.example.io/v1/namespaces/default/samples';
const seen: string[] = [];
const sample = (name: string, resourceVersion: string) => ({ kind: 'Sample', apiVersion: 'metrics.example.io/v1', metadata: { name, namespace: 'default', resourceVersion } });

function serve(req: IncomingMessage, res: ServerResponse): void {
  seen.push(req.url ?? '');
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname !== PATH) return void res.writeHead(404).end();
  res.writeHead(200, { 'content-type': 'application/json' });
  if (url.searchParams.get('watch') !== 'true' && url.searchParams.get('watch') !== '1') {
    res.end(JSON.stringify({ kind: 'SampleList', apiVersion: 'metrics.example.io/v1', metadata: { resourceVersion: 'epoch-7' }, items: [sample('a', 'epoch-7')] }));
    return;
  }
  res.write(`${JSON.stringify({ type: 'ADDED', object: sample('a', 'epoch-7') })}\n`);
  const timer = setInterval(() => res.write(`${JSON.stringify({ type: 'MODIFIED', object: sample('a', `epoch-${Date.now()}`) })}\n`), 50);
  res.on('close', () => clearInterval(timer));
}

const upstream = createServer(serve);
let proxy: ProxyHost;
beforeAll(async () => {
  const url = await listen(upstream);
  proxy = await startProxyHost({ clusters: [{ name: 'agg', server: url, credentials: { token: 'svc-token' } }], share: { watches: { lingerMs: 50 } } });
});
afterAll(async () => {
  await proxy.close();
  await closeServer(upstream);
});

describe('a watch whose resourceVersions are not decimal', () => {
  it('is passed through unshared, as the client sent it, and keeps going so', async () => {
    const first = openWatch(`${proxy.url}/clusters/agg${PATH}?watch=1&labelSelector=x%3Dy`);
    await expect.poll(() => first.events.filter((e) => e.type === 'MODIFIED').length).toBeGreaterThan(2);
    expect(first.events[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'a' } } });
    // The shared watch's list found the resourceVersion unreadable; the client's own watch went through.
    expect(seen).toContain(`${PATH}?labelSelector=x%3Dy`);
    expect(seen).toContain(`${PATH}?watch=1&labelSelector=x%3Dy`);
    seen.length = 0;
    const second = openWatch(`${proxy.url}/clusters/agg${PATH}?watch=1&labelSelector=x%3Dy`);
    await expect.poll(() => second.events.length).toBeGreaterThan(1);
    // Remembered: no second attempt to share it.
    expect(seen).toEqual([`${PATH}?watch=1&labelSelector=x%3Dy`]);
    first.abort();
    second.abort();
  });
});
