import { createServer, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onWrittenResourceVersion } from '../../src/share/write-version.ts';
import { closeServer, listen, send } from '../helpers/servers.ts';

let answer: (res: ServerResponse) => void = () => undefined;
let found: number[] = [];
const server = createServer((_req, res) => {
  onWrittenResourceVersion(res, (rv) => found.push(rv));
  answer(res);
});
let url: string;
beforeAll(async () => {
  url = await listen(server);
});
afterAll(() => closeServer(server));

async function written(respond: (res: ServerResponse) => void): Promise<{ found: number[]; body: string }> {
  found = [];
  answer = respond;
  const response = await send(url, { method: 'POST' });
  // 'finish' runs before the client can read the end of the answer.
  return { found, body: response.body };
}

const pod = JSON.stringify({ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'a', resourceVersion: '42' } });

describe('the resourceVersion a write answered with', () => {
  it('is read from the bytes sent, however they are split, and the client gets them unchanged', async () => {
    const result = await written((res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.write(pod.slice(0, 10));
      res.write(Buffer.from(pod.slice(10, 30)));
      res.end(pod.slice(30));
    });
    expect(result).toEqual({ found: [42], body: pod });
  });

  it('is not read from a failure, a non-JSON answer, a non-decimal version, or an answer over the bound', async () => {
    expect((await written((res) => res.writeHead(409).end(pod))).found).toEqual([]);
    expect((await written((res) => res.writeHead(200).end('not json'))).found).toEqual([]);
    expect((await written((res) => res.writeHead(200).end('[1]'))).found).toEqual([]);
    expect((await written((res) => res.writeHead(200).end(JSON.stringify({ metadata: { resourceVersion: 'x1' } })))).found).toEqual([]);
    const huge = JSON.stringify({ metadata: { resourceVersion: '7' }, data: 'z'.repeat(5 * 1024 * 1024) });
    const result = await written((res) => res.writeHead(200).end(huge));
    expect(result.found).toEqual([]);
    expect(result.body.length).toBe(huge.length);
  });
});
