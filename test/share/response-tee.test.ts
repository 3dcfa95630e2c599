import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createResponseTee, type ResponseTee } from '../../src/share/response-tee.ts';
import { closeServer, listen } from '../helpers/servers.ts';

// The tee between one upstream response and the clients of a front server, all on loopback: the
// test writes the upstream's response itself, chunk by chunk.

let upstream: Server;
let front: Server;
let upstreamUrl: string;
let frontUrl: string;
let upstreamWaiter: ((res: ServerResponse) => void) | undefined;
/** The tee the front joins its clients to. */
let tee: ResponseTee;
let seen: { closed: number; abandoned: number };

beforeAll(async () => {
  upstream = createServer((_req, res) => {
    upstreamWaiter?.(res);
  });
  upstreamUrl = await listen(upstream);
  front = createServer((_req, res) => {
    if (!tee.join({ res, fail: (error) => res.writeHead(502).end(String(error)) })) res.writeHead(409).end('closed to joiners');
  });
  frontUrl = await listen(front);
});
afterAll(async () => {
  await closeServer(front);
  await closeServer(upstream);
});
beforeEach(() => {
  seen = { closed: 0, abandoned: 0 };
});

function newTee(maxBufferBytes: number): ResponseTee {
  tee = createResponseTee(maxBufferBytes, { closed: () => seen.closed++, abandoned: () => seen.abandoned++ });
  return tee;
}

/** Asks the upstream; resolves with the upstream's response object (to write) and the tee's message (once headers are out). */
async function startUpstream(head: (res: ServerResponse) => void): Promise<{ res: ServerResponse; message: IncomingMessage }> {
  const got = new Promise<ServerResponse>((resolve) => (upstreamWaiter = resolve));
  const message = new Promise<IncomingMessage>((resolve, reject) => request(upstreamUrl, { agent: false }, resolve).on('error', reject).end());
  const res = await got;
  head(res);
  res.flushHeaders();
  return { res, message: await message };
}

interface Client {
  response: Promise<IncomingMessage>;
  body: Promise<{ status: number; body: string; cut: boolean }>;
}

function client(options: { paused?: boolean } = {}): Client {
  const response = new Promise<IncomingMessage>((resolve, reject) => request(frontUrl, { agent: false }, resolve).on('error', reject).end());
  const body = response.then(
    (res) =>
      new Promise<{ status: number; body: string; cut: boolean }>((resolve) => {
        const chunks: Buffer[] = [];
        if (options.paused) res.pause();
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), cut: false }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), cut: true }));
      }),
  );
  return { response, body };
}

const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));

describe('the response tee', () => {
  it('gives a client joining mid-body the whole body and the headers, without hop-by-hop ones', async () => {
    newTee(1024);
    const early = client();
    await tick();
    const up = await startUpstream((res) => res.writeHead(200, { 'content-type': 'text/plain', 'x-from': 'upstream', 'keep-alive': 'timeout=5' }));
    tee.start(up.message);
    up.res.write('first,');
    await early.response;
    await tick();
    const late = client();
    const lateHead = await late.response;
    up.res.end('second');
    expect(await early.body).toEqual({ status: 200, body: 'first,second', cut: false });
    expect(await late.body).toEqual({ status: 200, body: 'first,second', cut: false });
    expect(lateHead.headers['x-from']).toBe('upstream');
    expect(lateHead.headers['keep-alive']).not.toBe('timeout=5');
    expect(seen).toEqual({ closed: 1, abandoned: 0 });
    expect((await client().body).status).toBe(409); // ended: nobody joins any more
  });

  it('closes to joiners once the body outgrows the buffer, and still serves those in it', async () => {
    newTee(10);
    const first = client();
    await tick();
    const up = await startUpstream((res) => res.writeHead(200));
    tee.start(up.message);
    up.res.write('0123456789abcdef');
    await first.response;
    await tick();
    expect(seen.closed).toBe(1);
    expect((await client().body).status).toBe(409);
    up.res.end('!');
    expect((await first.body).body).toBe('0123456789abcdef!');
  });

  it('keeps serving the others when one client leaves, and gives up when all left', async () => {
    newTee(1024);
    const leaving = client();
    const staying = client();
    await tick();
    const up = await startUpstream((res) => res.writeHead(200));
    tee.start(up.message);
    up.res.write('a');
    (await leaving.response).destroy();
    await tick();
    up.res.end('b');
    expect(await staying.body).toEqual({ status: 200, body: 'ab', cut: false });
    expect(seen.abandoned).toBe(0);

    seen = { closed: 0, abandoned: 0 };
    newTee(1024);
    const gone = client();
    await tick();
    const up2 = await startUpstream((res) => res.writeHead(200));
    tee.start(up2.message);
    up2.res.write('a');
    (await gone.response).destroy();
    await tick(60);
    expect(seen).toEqual({ closed: 1, abandoned: 1 });
    up2.res.destroy();
  });

  it('cuts every client when the upstream body breaks off: never a truncated body passed off as complete', async () => {
    newTee(1024);
    const a = client();
    const b = client();
    await tick();
    const up = await startUpstream((res) => res.writeHead(200, { 'content-length': '100' }));
    tee.start(up.message);
    up.res.write('partial');
    await Promise.all([a.response, b.response]);
    up.res.destroy();
    expect(await a.body).toMatchObject({ cut: true, body: 'partial' });
    expect(await b.body).toMatchObject({ cut: true, body: 'partial' });
  });

  it('answers every waiting client with the failure when the cluster could not be asked', async () => {
    newTee(1024);
    const a = client();
    const b = client();
    await tick();
    tee.fail(new Error('unreachable'));
    expect(await a.body).toMatchObject({ status: 502, body: 'Error: unreachable' });
    expect(await b.body).toMatchObject({ status: 502, body: 'Error: unreachable' });
  });

  it('reads the upstream only as fast as the slowest client takes it', async () => {
    newTee(1024);
    const fast = client();
    const slow = client({ paused: true });
    await tick();
    const MiB = Buffer.alloc(1024 * 1024, 'x');
    const up = await startUpstream((res) => res.writeHead(200));
    tee.start(up.message);
    await Promise.all([fast.response, slow.response]);
    // Write until the upstream socket pushes back, bounded: 64 MiB at most.
    let written = 0;
    for (let i = 0; i < 64; i++) {
      written++;
      if (!up.res.write(MiB)) {
        const drained = await Promise.race([new Promise((r) => up.res.once('drain', () => r(true))), tick(300).then(() => false)]);
        if (!drained) break;
      }
    }
    // The slow client reads nothing: the pushback came well before 64 MiB (socket buffers only).
    expect(written).toBeLessThan(64);
    (await slow.response).resume();
    up.res.end();
    const [f, s] = await Promise.all([fast.body, slow.body]);
    expect(f.body.length).toBe(written * MiB.length);
    expect(s.body.length).toBe(written * MiB.length);
  });
});
