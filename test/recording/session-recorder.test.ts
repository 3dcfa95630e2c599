import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { RecordingFacts } from '../../src/recording/asciicast.ts';
import { createSessionRecorder, MAX_PENDING_BYTES, type OpenRecording } from '../../src/recording/session-recorder.ts';
import { parseAsciicast, textOf } from '../helpers/asciicast.ts';

const dir = mkdtempSync(join(tmpdir(), 'kcp-recorder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const facts = (): RecordingFacts => ({
  requestId: `req-${++n}`,
  cluster: 'c',
  user: { name: 'alice', groups: ['devs'], kind: 'user', source: 'session' },
  namespace: 'default',
  pod: 'web',
  container: undefined,
  subresource: 'exec',
  command: ['sh'],
});
const binary = (channel: number, text: string | Buffer) => Buffer.concat([Buffer.from([channel]), Buffer.from(text)]);

/** A disk that takes the first write and never finishes it. */
function stalled(): { open: OpenRecording; writer: () => Writable } {
  let writer: Writable | undefined;
  return {
    open: () => (writer = new Writable({ write: () => {} })),
    writer: () => writer!,
  };
}

describe('createSessionRecorder', () => {
  it('drops the recording once more than MAX_PENDING_BYTES wait for the disk, keeping at most that much', () => {
    const disk = stalled();
    const recorder = createSessionRecorder({ directory: dir, maxBytes: 100 * 1024 * 1024, protocol: 'v5.channel.k8s.io', facts: facts(), now: Date.now }, disk.open);
    let most = 0;
    for (let i = 0; i < 100; i++) {
      recorder.fromCluster(2, binary(1, 'x'.repeat(64 * 1024)));
      most = Math.max(most, disk.writer().writableLength);
    }
    expect(most).toBeLessThanOrEqual(MAX_PENDING_BYTES);
    expect(disk.writer().destroyed).toBe(true);
    expect(recorder.finish()).toMatchObject({ dropped: 'slow-disk' });
  });

  it("says 'disk-error' when the file cannot be written", async () => {
    const failing: OpenRecording = () => new Writable({ write: (_chunk, _encoding, done) => done(new Error('EIO')) });
    const recorder = createSessionRecorder({ directory: dir, maxBytes: 1 << 20, protocol: 'v5.channel.k8s.io', facts: facts(), now: Date.now }, failing);
    recorder.fromCluster(2, binary(1, 'out'));
    await new Promise((r) => setImmediate(r));
    expect(recorder.finish()).toMatchObject({ dropped: 'disk-error' });
  });

  it('ignores what is not a channel message: empty, unknown channels, the wrong framing, malformed resizes', async () => {
    const f = facts();
    const recorder = createSessionRecorder({ directory: dir, maxBytes: 1 << 20, protocol: 'v4.base64.channel.k8s.io', facts: f, now: Date.now });
    recorder.fromCluster(1, Buffer.alloc(0));
    recorder.fromCluster(2, binary(1, 'binary in a base64 session'));
    recorder.fromCluster(1, Buffer.from('9aGVsbG8='));
    recorder.fromCluster(1, Buffer.from('3c3RhdHVz'));
    recorder.fromClient(1, Buffer.from(`4${Buffer.from('{"Width":"wide"}').toString('base64')}`));
    recorder.fromClient(1, Buffer.from(`4${Buffer.from('not json').toString('base64')}`));
    recorder.fromCluster(1, Buffer.from(`1${Buffer.from('shown').toString('base64')}`));
    recorder.fromClient(undefined as never, undefined);
    const summary = recorder.finish();
    expect(summary.dropped).toBeUndefined();
    let text = '';
    for (let i = 0; i < 200 && !text.endsWith('\n'); i++) {
      await new Promise((r) => setTimeout(r, 5));
      text = readFileSync(summary.file, 'utf8');
    }
    const cast = parseAsciicast(text);
    expect(textOf(cast, 'o')).toBe('shown');
    expect(cast.events.filter(([, code]) => code !== 'o')).toEqual([]);
  });

  it('joins a character split across two messages', async () => {
    const recorder = createSessionRecorder({ directory: dir, maxBytes: 1 << 20, protocol: 'v5.channel.k8s.io', facts: facts(), now: Date.now });
    const bytes = Buffer.from('é✓');
    recorder.fromCluster(2, binary(1, bytes.subarray(0, 1)));
    recorder.fromCluster(2, binary(1, bytes.subarray(1, 3)));
    recorder.fromCluster(2, binary(1, bytes.subarray(3)));
    const { file } = recorder.finish();
    let text = '';
    for (let i = 0; i < 200 && text.split('\n').length < 3; i++) {
      await new Promise((r) => setTimeout(r, 5));
      text = readFileSync(file, 'utf8');
    }
    expect(textOf(parseAsciicast(text), 'o')).toBe('é✓');
  });
});
