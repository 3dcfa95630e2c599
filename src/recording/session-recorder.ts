import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { DEFAULT_SIZE, eventLine, headerLine, parseResize, type RecordingFacts } from './asciicast.ts';

/**
 * Why a recording stopped before its session ended: `'size-limit'` (the next event would have
 * passed `maxBytes`; the file holds everything before it, the last event cut to fit), `'slow-disk'`
 * (more than 1 MiB waited for the disk; what was still waiting is discarded),
 * `'disk-error'` (opening or writing the file failed).
 */
export type RecordingDropped = 'size-limit' | 'slow-disk' | 'disk-error';

/** What the audit event says of a session's recording. */
export interface RecordingSummary {
  /** The asciicast v2 file (absolute path). */
  file: string;
  /** Bytes handed to the file, header included (for `'slow-disk'`, some of them may not have reached it). */
  bytes: number;
  /** Set when the recording stopped before the session ended; absent when it is whole. */
  dropped?: RecordingDropped;
}

/**
 * Bytes queued for the disk beyond which a recording is dropped rather than let grow: a session
 * never waits for the disk, and a stalled disk costs at most this much memory per session.
 */
export const MAX_PENDING_BYTES = 1024 * 1024;

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const RESIZE = 4;

/** The longest event line of a prefix of `data` within `room` bytes; `undefined` when not even one character fits. */
function fitting(elapsedMs: number, code: 'o' | 'i' | 'r', data: string, room: number): string | undefined {
  let length = Math.min(data.length, room);
  // Each round shrinks by at least one character; escaping makes a line at most 6 bytes per character.
  for (let round = 0; round < 64 && length > 0; round++) {
    const line = eventLine(elapsedMs, code, data.slice(0, length));
    const size = Buffer.byteLength(line);
    if (size <= room) return line;
    length = Math.min(length - 1, Math.floor((length * room) / size));
  }
  return undefined;
}

/** Where a recording goes; a seam for tests (a writer that never drains is a stalled disk). */
export type OpenRecording = (file: string) => Writable;

const openFile: OpenRecording = (file) => createWriteStream(file, { flags: 'wx', mode: 0o600 });

/** What a recorder needs to know of its session. */
export interface RecorderSettings {
  directory: string;
  maxBytes: number;
  /** The subprotocol the cluster chose: `v4.base64.channel.k8s.io` frames are base64 text. */
  protocol: string;
  facts: RecordingFacts;
  now: () => number;
}

/**
 * Records one exec or attach session, read from its WebSocket channel messages, as an asciicast v2
 * file: stdout and stderr as `"o"`, stdin as `"i"`, resizes as `"r"`. The header is written with
 * the first event, so that a resize sent before any output gives the player its size. Writes are
 * queued on the file's stream and never awaited.
 */
export function createSessionRecorder(settings: RecorderSettings, open: OpenRecording = openFile) {
  const file = join(settings.directory, `${settings.facts.requestId}.cast`);
  const startedAt = settings.now();
  const base64 = settings.protocol.includes('base64');
  let stream: Writable | undefined;
  let dropped: RecordingDropped | undefined;
  let bytes = 0;
  let ended = false;
  // One decoder per channel: a character split across two messages is joined, never mangled.
  const decoders = new Map<number, InstanceType<typeof TextDecoder>>();

  function stop(why: RecordingDropped): void {
    if (dropped !== undefined || ended) return;
    dropped = why;
    // A disk that fell behind gets nothing more, not even what waits: the memory goes at once.
    if (why === 'size-limit') stream?.end();
    else stream?.destroy();
  }

  function write(line: string): boolean {
    if (dropped !== undefined || ended) return false;
    const size = Buffer.byteLength(line);
    if (bytes + size > settings.maxBytes) {
      stop('size-limit');
      return false;
    }
    if (!stream) {
      stream = open(file);
      stream.on('error', () => stop('disk-error'));
    }
    if (stream.writableLength + size > MAX_PENDING_BYTES) {
      stop('slow-disk');
      return false;
    }
    bytes += size;
    stream.write(line);
    return true;
  }

  function event(code: 'o' | 'i' | 'r', data: string): void {
    if (data === '' || dropped !== undefined) return;
    if (bytes === 0) write(headerLine(settings.facts, startedAt, DEFAULT_SIZE));
    const elapsed = settings.now() - startedAt;
    const line = eventLine(elapsed, code, data);
    if (bytes + Buffer.byteLength(line) <= settings.maxBytes) {
      write(line);
      return;
    }
    // The last event that fits is cut to the room left, so that the file keeps all it can.
    const cut = fitting(elapsed, code, data, settings.maxBytes - bytes);
    if (cut !== undefined) write(cut);
    stop('size-limit');
  }

  function text(channel: number, data: Buffer): string {
    let decoder = decoders.get(channel);
    if (!decoder) decoders.set(channel, (decoder = new TextDecoder('utf-8')));
    return decoder.decode(data, { stream: true });
  }

  /** A channel message's channel and data, in either framing of the channel protocol. */
  function channelOf(opcode: number, payload: Buffer | undefined): [number, Buffer] | undefined {
    if (!payload || payload.length === 0) return undefined;
    if (base64) return opcode === 1 ? [payload[0]! - 0x30, Buffer.from(payload.subarray(1).toString('latin1'), 'base64')] : undefined;
    return opcode === 2 ? [payload[0]!, payload.subarray(1)] : undefined;
  }

  return {
    /** A message the client sent. */
    fromClient: (opcode: number, payload: Buffer | undefined): void => {
      const message = channelOf(opcode, payload);
      if (!message) return;
      const [channel, data] = message;
      if (channel === STDIN) event('i', text(STDIN, data));
      else if (channel === RESIZE) {
        const size = parseResize(data.toString('utf8'));
        if (!size) return;
        // Before anything else: the player starts at this size.
        if (bytes === 0) write(headerLine(settings.facts, startedAt, size));
        else event('r', `${size.width}x${size.height}`);
      }
    },
    /** A message the cluster sent. */
    fromCluster: (opcode: number, payload: Buffer | undefined): void => {
      const message = channelOf(opcode, payload);
      if (message && (message[0] === STDOUT || message[0] === STDERR)) event('o', text(message[0], message[1]));
    },
    /** The session ended: the file is closed (its last writes may still be on their way), and what became of it is returned. */
    finish: (): RecordingSummary => {
      if (!ended) {
        // A session that showed nothing still leaves its file: that it happened is on record.
        if (bytes === 0) write(headerLine(settings.facts, startedAt, DEFAULT_SIZE));
        ended = true;
        if (dropped === undefined) stream?.end();
      }
      return { file, bytes, ...(dropped === undefined ? {} : { dropped }) };
    },
  };
}

export type SessionRecorder = ReturnType<typeof createSessionRecorder>;
