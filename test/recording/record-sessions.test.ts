import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, mkdtempSync, open, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClusterProxy, InvalidOptionError, type AuditEvent, type ClusterConfig } from 'kube-cluster-proxy';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { startProxyHost, type ProxyHost } from '../helpers/servers.ts';
import { parseAsciicast, textOf } from '../helpers/asciicast.ts';

const TOKEN = randomBytes(32).toString('base64url');
const POD = '/api/v1/namespaces/default/pods/web-rec-1';
let fake: FakeCluster;
let host: ProxyHost;
let dir: string;
const audits: AuditEvent[] = [];

interface Step {
  resize?: [number, number];
  stdin?: string;
  closeStdin?: boolean;
}

interface Session {
  stdout: Buffer;
  stderr: Buffer;
}

/** One channel-protocol session over `ws`, as a browser terminal runs it (both framings). */
function session(path: string, protocol: string, steps: Step[] = []): Promise<Session> {
  const base64 = protocol.includes('base64');
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${host.url.replace('http', 'ws')}/clusters/${path}`, [protocol]);
    const out: Record<number, Buffer[]> = { 1: [], 2: [] };
    const send = (channel: number, payload: Buffer) => (base64 ? ws.send(String.fromCharCode(48 + channel) + payload.toString('base64')) : ws.send(Buffer.concat([Buffer.from([channel]), payload])));
    ws.on('open', () => {
      for (const step of steps) {
        if (step.resize) send(4, Buffer.from(JSON.stringify({ Width: step.resize[0], Height: step.resize[1] })));
        if (step.stdin !== undefined) send(0, Buffer.from(step.stdin));
        if (step.closeStdin) ws.send(Buffer.from([255, 0]));
      }
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const channel = base64 && !isBinary ? data[0]! - 48 : data[0]!;
      const payload = base64 && !isBinary ? Buffer.from(data.subarray(1).toString('latin1'), 'base64') : data.subarray(1);
      out[channel]?.push(payload);
    });
    ws.on('close', () => resolve({ stdout: Buffer.concat(out[1]!), stderr: Buffer.concat(out[2]!) }));
    ws.on('error', reject);
    setTimeout(() => reject(new Error('the session did not end within 20 s')), 20_000).unref();
  });
}

const exec = (cluster: string, command: string[], opts: { stdin?: boolean; tty?: boolean } = {}) => {
  const query = new URLSearchParams();
  for (const part of command) query.append('command', part);
  query.set('stdout', 'true');
  query.set('stderr', 'true');
  if (opts.stdin) query.set('stdin', 'true');
  if (opts.tty) query.set('tty', 'true');
  return `${cluster}${POD}/exec?${query.toString()}`;
};

async function auditOf(count: number): Promise<AuditEvent[]> {
  for (let i = 0; i < 300 && audits.filter((e) => e.upgrade).length < count; i++) await new Promise((r) => setTimeout(r, 10));
  return audits.filter((e) => e.upgrade);
}

/**
 * The recording once it holds `until`, bounded: its writes, the file's creation included, go through
 * libuv's thread pool and may land after the audit event.
 */
async function recording(file: string, until: (text: string) => boolean): Promise<string> {
  let text = '';
  for (let i = 0; i < 300; i++) {
    text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (text !== '' && until(text)) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  return text;
}

function cluster(name: string, extra: Partial<ClusterConfig> = {}): ClusterConfig {
  return { ...fake.clusterConfig(name, { token: TOKEN }), recordSessions: { directory: dir }, ...extra };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kcp-rec-'));
  fake = await startFakeCluster({ name: 'rec', tokens: { [TOKEN]: 'svc' } });
  host = await startProxyHost({
    clusters: [cluster('rec'), cluster('small', { recordSessions: { directory: dir, maxBytes: 4096 } }), fake.clusterConfig('plain', { token: TOKEN })],
    on: { audit: (event) => void audits.push(event) },
  });
});
afterAll(async () => {
  await host.close();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  audits.length = 0;
});

describe('recordSessions', () => {
  it('records a v5 exec: the same stdout and stdin, the first resize as the size, user, cluster and command in the header', async () => {
    const typed = 'hello wörld ✓\nsecond line\n';
    const result = await session(exec('rec', ['cat'], { stdin: true }), 'v5.channel.k8s.io', [{ resize: [120, 40] }, { stdin: typed.slice(0, 9) }, { resize: [100, 30] }, { stdin: typed.slice(9), closeStdin: true }]);
    expect(result.stdout.toString()).toBe(typed);
    const [event] = await auditOf(1);
    expect(event!.recording).toEqual({ file: join(dir, `${event!.requestId}.cast`), bytes: expect.any(Number) });
    const cast = parseAsciicast(await recording(event!.recording!.file, (t) => textOf(parseAsciicast(t), 'o') === typed));
    expect(cast.header).toMatchObject({
      version: 2,
      width: 120,
      height: 40,
      kube_cluster_proxy: { requestId: event!.requestId, cluster: 'rec', user: event!.user, namespace: 'default', pod: 'web-rec-1', subresource: 'exec', command: ['cat'] },
    });
    expect(textOf(cast, 'o')).toBe(typed);
    expect(textOf(cast, 'i')).toBe(typed);
    expect(cast.events.filter(([, code]) => code === 'r').map(([, , data]) => data)).toEqual(['100x30']);
    expect(statSync(event!.recording!.file).size).toBe(event!.recording!.bytes);
    expect(statSync(event!.recording!.file).mode & 0o777).toBe(0o600);
  });

  it.each(['v4.channel.k8s.io', 'v4.base64.channel.k8s.io'])('records %s: stdout and stderr as output', async (protocol) => {
    const result = await session(exec('rec', ['sh', '-c', 'echo "ünïcode out"']), protocol);
    const err = await session(exec('rec', ['stderr', 'to', 'stderr']), protocol);
    expect(result.stdout.toString()).toBe('ünïcode out\n');
    expect(err.stderr.toString()).toBe('to stderr\n');
    const events = await auditOf(2);
    const texts = await Promise.all(events.map(async (e) => textOf(parseAsciicast(await recording(e.recording!.file, (t) => t.split('\n').length > 2)), 'o')));
    expect(texts).toEqual(['ünïcode out\n', 'to stderr\n']);
  });

  it('records an attach, and leaves a file for a session that showed nothing', async () => {
    await session(`rec${POD}/attach?stdin=true&stdout=true`, 'v5.channel.k8s.io', [{ stdin: 'typed into attach\n', closeStdin: true }]);
    await session(exec('rec', ['true']), 'v5.channel.k8s.io');
    const [attach, quiet] = await auditOf(2);
    const cast = parseAsciicast(await recording(attach!.recording!.file, (t) => textOf(parseAsciicast(t), 'o') !== ''));
    expect(cast.header.kube_cluster_proxy).toMatchObject({ subresource: 'attach', command: [] });
    expect(textOf(cast, 'i')).toBe('typed into attach\n');
    expect(textOf(cast, 'o')).toBe('typed into attach\n');
    const empty = parseAsciicast(await recording(quiet!.recording!.file, (t) => t.endsWith('\n')));
    expect(empty.events).toEqual([]);
    expect(empty.header.kube_cluster_proxy).toMatchObject({ command: ['true'] });
  });

  it('stops at maxBytes, the session going on, and says so in the audit event', async () => {
    const result = await session(exec('small', ['bytes', '200000']), 'v5.channel.k8s.io');
    expect(result.stdout.length).toBe(200_000);
    const [event] = await auditOf(1);
    expect(event!.recording).toMatchObject({ dropped: 'size-limit' });
    const text = await recording(event!.recording!.file, (t) => Buffer.byteLength(t) === event!.recording!.bytes);
    expect(Buffer.byteLength(text)).toBe(event!.recording!.bytes);
    expect(event!.recording!.bytes).toBeLessThanOrEqual(4096);
    expect(parseAsciicast(text).events.length).toBeGreaterThan(0);
  });

  it('does not record a cluster without recordSessions', async () => {
    const before = readdirSync(dir).length;
    await session(exec('plain', ['echo', 'unrecorded']), 'v5.channel.k8s.io');
    const [event] = await auditOf(1);
    expect(event!.recording).toBeUndefined();
    expect(readdirSync(dir)).toHaveLength(before);
  });

  it('a stalled disk does not stall the exec: the recording is dropped, and the audit event says so', async () => {
    // Every thread of libuv's pool blocked opening a FIFO nobody reads: no file operation of this
    // process can run, as when the recording's disk hangs. Sockets do not use the pool.
    const fifos = Array.from({ length: Number(process.env.UV_THREADPOOL_SIZE ?? 4) }, (_, i) => join(dir, `stall-${i}`));
    for (const fifo of fifos) execFileSync('mkfifo', [fifo]);
    const blocked = fifos.map((fifo) => new Promise<number>((resolve, reject) => open(fifo, 'w', (error, fd) => (error ? reject(error) : resolve(fd)))));
    let result: Session;
    try {
      result = await session(exec('rec', ['bytes', '3000000']), 'v5.channel.k8s.io');
    } finally {
      // A reader for each FIFO, opened on this thread (O_NONBLOCK does not wait for a writer): the pool runs again.
      const readers = fifos.map((fifo) => openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK));
      for (const fd of await Promise.all(blocked)) closeSync(fd);
      readers.forEach((fd) => closeSync(fd));
      fifos.forEach((fifo) => rmSync(fifo));
    }
    expect(result.stdout.length).toBe(3_000_000);
    const [event] = await auditOf(1);
    expect(event!.recording).toMatchObject({ dropped: 'slow-disk' });
  });
});

describe('recordSessions options', () => {
  const base = () => fake.clusterConfig('opt', { token: TOKEN });
  const make = (recordSessions: unknown) => () => createClusterProxy({ clusters: [{ ...base(), recordSessions } as ClusterConfig] });

  it.each([
    ['not an object', 'yes', /recordSessions must be an object/],
    ['no directory', {}, /recordSessions\.directory must be an absolute path/],
    ['a relative directory', { directory: 'casts' }, /recordSessions\.directory must be an absolute path/],
    ['a directory that does not exist', { directory: '/nonexistent/kcp-casts' }, /recordSessions\.directory "\/nonexistent\/kcp-casts" must be an existing directory .*ENOENT.*create it first/],
    ['an unknown key', { directory: '/tmp', maxSize: 5 }, /recordSessions\.maxSize is not an option/],
    ['a maxBytes below 1024', { directory: '/tmp', maxBytes: 100 }, /recordSessions\.maxBytes must be a whole number of bytes, at least 1024; got 100/],
    ['a fractional maxBytes', { directory: '/tmp', maxBytes: 2048.5 }, /recordSessions\.maxBytes/],
  ])('refuses %s at construction, naming the option', (_what, value, message) => {
    expect(make(value)).toThrow(InvalidOptionError);
    expect(make(value)).toThrow(message);
  });

  it('refuses a file as the directory', () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, '');
    expect(make({ directory: file })).toThrow(/must be an existing directory/);
  });
});
