import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Exchange } from '../pipeline/exchange.ts';

/** How a recording ended: whole, cut at `maxBytes`, or dropped because the disk could not keep up (or failed). */
export type RecordingOutcome = 'complete' | 'truncated' | 'dropped';

/** What the audit event says of a session's recording. */
export interface RecordingSummary {
  /** The asciicast v2 file. */
  file: string;
  outcome: RecordingOutcome;
  /** Bytes written to the file (for `'dropped'`: handed to the disk before it fell behind). */
  bytes: number;
}

/** Bytes waiting for the disk beyond which a recording is dropped rather than let grow: the session never waits for the disk. */
const MAX_PENDING = 1024 * 1024;

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const RESIZE = 4;

/** Whether a channel subprotocol carries base64 text frames (`v4.base64.channel.k8s.io`) rather than binary ones. */
const isBase64 = (protocol: string) => protocol.includes('base64');

/**
 * Writes one exec or attach session as asciicast v2: a header line (with the request id, cluster,
 * user, pod and command), then `[seconds, "o", text]` for stdout and stderr, `[seconds, "i", text]`
 * for stdin and `[seconds, "r", "COLSxROWS"]` for resizes. Channel frames come from the frame
 * scanner beside the pipe. Writes never wait: past {@link MAX_PENDING} bytes queued for the disk,
 * or on a write error, the recording is dropped and the session goes on.
 */
export function createSessionRecorder(exchange: Exchange, settings: { directory: string; maxBytes: number }, protocol: string, now: () => number) {
  const file = join(settings.directory, `${exchange.id}.cast`);
  const stream = createWriteStream(file, { flags: 'wx', mode: 0o600, highWaterMark: MAX_PENDING });
  let outcome: RecordingOutcome | undefined;
  let bytes = 0;
  const started = now();
  const base64 = isBase64(protocol);
  // One decoder per channel: a character split across two frames is joined, never mangled.
  const decoders = new Map<number, InstanceType<typeof TextDecoder>>();
  stream.on('error', () => stop('dropped'));

  function stop(why: RecordingOutcome): void {
    if (outcome !== undefined) return;
    outcome = why;
    stream.end();
  }

  function write(line: string): void {
    if (outcome !== undefined) return;
    const size = Buffer.byteLength(line);
    if (bytes + size > settings.maxBytes) {
      stop('truncated');
      return;
    }
    bytes += size;
    if (!stream.write(line)) stop('dropped');
  }

  function event(code: 'o' | 'i' | 'r', data: string): void {
    if (data !== '') write(`${JSON.stringify([Number(((now() - started) / 1000).toFixed(6)), code, data])}\n`);
  }

  const request = exchange.request;
  const command = exchange.request.subresource === 'exec' ? new URLSearchParams(exchange.path.slice(exchange.path.indexOf('?') + 1)).getAll('command') : [];
  write(
    `${JSON.stringify({
      version: 2,
      width: 80,
      height: 24,
      timestamp: Math.floor(started / 1000),
      title: `${exchange.cluster.name}: ${request.namespace}/${request.name} ${request.subresource}${command.length > 0 ? ` ${command.join(' ')}` : ''}`,
      kube_cluster_proxy: {
        requestId: exchange.id,
        cluster: exchange.cluster.name,
        user: exchange.user,
        namespace: request.namespace,
        pod: request.name,
        subresource: request.subresource,
        command,
      },
    })}\n`,
  );

  function text(channel: number, data: Buffer): string {
    let decoder = decoders.get(channel);
    if (!decoder) decoders.set(channel, (decoder = new TextDecoder('utf-8')));
    return decoder.decode(data, { stream: true });
  }

  /** A channel frame's channel and data, in either framing of the channel protocol. */
  function channelOf(opcode: number, payload: Buffer): [number, Buffer] | undefined {
    if (payload.length === 0) return undefined;
    if (base64) {
      if (opcode !== 1) return undefined;
      return [payload[0]! - 0x30, Buffer.from(payload.subarray(1).toString('latin1'), 'base64')];
    }
    return opcode === 2 ? [payload[0]!, payload.subarray(1)] : undefined;
  }

  return {
    /** A frame the client sent. */
    fromClient(opcode: number, payload: Buffer | undefined): void {
      const frame = payload && channelOf(opcode, payload);
      if (!frame) return;
      const [channel, data] = frame;
      if (channel === STDIN) event('i', text(STDIN, data));
      else if (channel === RESIZE) {
        try {
          const size = JSON.parse(data.toString('utf8')) as { Width?: unknown; Height?: unknown };
          if (Number.isInteger(size.Width) && Number.isInteger(size.Height)) event('r', `${String(size.Width)}x${String(size.Height)}`);
        } catch {
          // Not a size: the cluster will say so; nothing to record.
        }
      }
    },
    /** A frame the cluster sent. */
    fromCluster(opcode: number, payload: Buffer | undefined): void {
      const frame = payload && channelOf(opcode, payload);
      if (frame && (frame[0] === STDOUT || frame[0] === STDERR)) event('o', text(frame[0], frame[1]));
    },
    /** The session ended: the file is closed, and what became of it is returned. */
    finish(): RecordingSummary {
      stop('complete');
      return { file, outcome: outcome ?? 'complete', bytes };
    },
  };
}

export type SessionRecorder = ReturnType<typeof createSessionRecorder>;
