import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen, startProxyHost, type ProxyHost } from '../helpers/servers.ts';

// Large bodies through the proxy, both ways, against an upstream that counts what it gets: they
// must stream (bounded memory, backpressure), never be buffered whole. Run once per engine.

const MiB = 1024 * 1024;
const CHUNK = Buffer.alloc(MiB, 'x');

let upstream: Server;
let host: ProxyHost;
/** Bytes the upstream's current response has handed to its socket (res.write accepted). */
let written = 0;
/** Set by the `/cut` route: the upstream destroys the socket after this many MiB. */
const CUT_AFTER_MIB = 4;

/** Writes `total` MiB to `res`, waiting for 'drain' whenever the socket is full. */
function writeMiB(res: ServerResponse, total: number, then: () => void): void {
  let sent = 0;
  const next = (): void => {
    while (sent < total) {
      sent++;
      written += MiB;
      if (!res.write(CHUNK)) {
        res.once('drain', next);
        return;
      }
    }
    then();
  };
  next();
}

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'PUT') {
      let received = 0;
      req.on('data', (chunk: Buffer) => (received += chunk.length));
      req.on('end', () => res.end(JSON.stringify({ received })));
      return;
    }
    written = 0;
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    if (url.pathname.endsWith('/cut')) writeMiB(res, CUT_AFTER_MIB, () => setTimeout(() => res.socket?.destroy(), 50));
    else writeMiB(res, Number(url.searchParams.get('mib')), () => res.end());
  });
  const url = await listen(upstream);
  host = await startProxyHost({ clusters: [{ name: 'big', server: url, credentials: { token: 't' } }] });
});
afterAll(async () => {
  await host.close();
  await closeServer(upstream);
});

/** Samples this process's RSS every 20 ms until stopped; returns the largest growth seen, in MiB. */
function rssGrowth(): () => number {
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  return () => {
    clearInterval(timer);
    return (Math.max(peak, process.memoryUsage.rss()) - start) / MiB;
  };
}

function get(path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(`${host.url}/clusters/big${path}`, { agent: false }, resolve);
    req.on('error', reject);
    req.end();
  });
}

describe('large bodies stream through the proxy', () => {
  it('forwards a 50 MiB request body with bounded memory', async () => {
    const total = 50;
    let produced = 0;
    const body = new Readable({
      read() {
        this.push(produced++ < total ? CHUNK : null);
      },
    });
    const growth = rssGrowth();
    const answer = await new Promise<string>((resolve, reject) => {
      const req = request(`${host.url}/clusters/big/api/v1/namespaces/default/configmaps/huge`, { method: 'PUT', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      body.pipe(req);
    });
    expect(JSON.parse(answer)).toEqual({ received: total * MiB });
    // Everything in this process (client, proxy, upstream): far less than the body.
    expect(growth()).toBeLessThan(100);
  });

  it('streams a 200 MiB response with bounded memory, and holds the upstream back while the client does not read', async () => {
    const total = 200;
    const growth = rssGrowth();
    const res = await get(`/api/v1/namespaces/default/pods/p/log?follow=true&mib=${total}`);
    expect(res.statusCode).toBe(200);
    let received = 0;
    res.on('data', (chunk: Buffer) => (received += chunk.length));
    await expect.poll(() => received, { timeout: 10_000 }).toBeGreaterThan(8 * MiB);
    res.pause();
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Socket buffers on both sides of the proxy and its own high-water marks; nothing more.
    expect((written - received) / MiB).toBeLessThan(24);
    const ended = new Promise<void>((resolve, reject) => {
      res.on('end', resolve);
      res.on('error', reject);
    });
    res.resume();
    await ended;
    expect(received).toBe(total * MiB);
    expect(growth()).toBeLessThan(100);
  });

  it('ends the client stream, not as complete, when the upstream dies mid-stream', async () => {
    const res = await get('/api/v1/namespaces/default/pods/p/log/cut');
    expect(res.statusCode).toBe(200);
    let received = 0;
    const outcome = await new Promise<string>((resolve) => {
      res.on('data', (chunk: Buffer) => (received += chunk.length));
      res.on('end', () => resolve(res.complete ? 'complete' : 'cut'));
      res.on('error', () => resolve('cut'));
      res.on('close', () => resolve(res.complete ? 'complete' : 'cut'));
    });
    expect(outcome).toBe('cut');
    expect(received).toBeLessThanOrEqual(CUT_AFTER_MIB * MiB);
  });
});
