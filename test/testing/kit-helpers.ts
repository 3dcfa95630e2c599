import { KubeConfig } from '@kubernetes/client-node';
import { request } from 'node:https';
import { Writable } from 'node:stream';
import WebSocket from 'ws';
import type { FakeCluster } from 'kube-cluster-proxy/testing';

/** A KubeConfig pointing straight at the fake, authenticating with a token or a client certificate. */
export function kubeConfigFor(fake: FakeCluster, user: { token: string } | { cert: string; key: string }): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: fake.url, caData: Buffer.from(fake.ca).toString('base64'), skipTLSVerify: false }],
    users: [
      'token' in user
        ? { name: 'user', token: user.token }
        : { name: 'user', certData: Buffer.from(user.cert).toString('base64'), keyData: Buffer.from(user.key).toString('base64') },
    ],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'user' }],
    currentContext: 'fake',
  });
  return kc;
}

/** A writable that keeps what it receives, for stdout/stderr/log streams. */
export class Collector extends Writable {
  readonly chunks: Buffer[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push(chunk);
    callback();
  }

  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** The outcome of a WebSocket attempt: either open, or refused with an HTTP response. */
export type WebSocketAttempt =
  | { readonly ws: WebSocket; readonly protocol: string; readonly responseHeaders: Record<string, string | string[] | undefined> }
  | { readonly status: number; readonly body: string; readonly contentType: string | undefined };

/** Opens a WebSocket to the fake with `ws`, trusting its CA; resolves on open or on a refused upgrade. */
export function openWebSocket(
  fake: FakeCluster,
  path: string,
  protocols: string[],
  headers: Record<string, string> = {},
): Promise<WebSocketAttempt> {
  return new Promise((resolve, reject) => {
    let responseHeaders: Record<string, string | string[] | undefined> = {};
    const ws = new WebSocket(`${fake.url.replace('https', 'wss')}${path}`, protocols, { ca: fake.ca, headers });
    ws.on('upgrade', (response) => (responseHeaders = response.headers));
    ws.on('open', () => resolve({ ws, protocol: ws.protocol, responseHeaders }));
    ws.on('unexpected-response', (_request, response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), contentType: response.headers['content-type'] }),
      );
    });
    ws.on('error', reject);
  });
}

/** Frames received until the server closes the WebSocket, with the close code. */
export function framesUntilClose(ws: WebSocket): Promise<{ frames: { channel: number; data: Buffer; text: boolean }[]; code: number }> {
  const frames: { channel: number; data: Buffer; text: boolean }[] = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => frames.push({ channel: data[0] ?? -1, data: data.subarray(1), text: !isBinary }));
  return new Promise((resolve) => ws.on('close', (code) => resolve({ frames, code })));
}

/** Concatenated payloads of one channel. */
export function channelText(frames: readonly { channel: number; data: Buffer }[], channel: number): string {
  return Buffer.concat(frames.filter((frame) => frame.channel === channel).map((frame) => frame.data)).toString('utf8');
}

/** Sends an upgrade request by hand (any method and upgrade token); resolves with the status line and headers. */
export function rawUpgrade(
  fake: FakeCluster,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${fake.url}${path}`, { method, ca: fake.ca, headers: { Connection: 'Upgrade', ...headers } });
    req.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve({ status: response.statusCode ?? 0, headers: response.headers, body: '' });
    });
    req.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A plain HTTPS request to the fake, trusting its CA; optional client certificate. */
export function httpRequest(
  fake: FakeCluster,
  path: string,
  options: { method?: string; headers?: Record<string, string | string[]>; body?: string; cert?: string; key?: string } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(`${fake.url}${path}`, {
      method: options.method ?? 'GET',
      headers: options.headers,
      ca: fake.ca,
      cert: options.cert,
      key: options.key,
      agent: false,
    });
    req.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A streaming GET (watch, follow): lines as they arrive, the end, and a way to abort. */
export function streamLines(fake: FakeCluster, path: string, token: string): {
  readonly lines: string[];
  readonly ended: Promise<void>;
  readonly abort: () => void;
  readonly headers: Promise<Record<string, string | string[] | undefined>>;
} {
  const lines: string[] = [];
  let buffered = '';
  const req = request(`${fake.url}${path}`, { headers: { Authorization: `Bearer ${token}` }, ca: fake.ca, agent: false });
  const headers = new Promise<Record<string, string | string[] | undefined>>((resolve, reject) => {
    req.on('response', (response) => resolve(response.headers));
    req.on('error', reject);
  });
  const ended = new Promise<void>((resolve) => {
    req.on('response', (response) => {
      response.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const complete = buffered.split('\n');
        buffered = complete.pop() ?? '';
        lines.push(...complete);
      });
      response.on('end', resolve);
      response.on('error', () => resolve());
    });
    req.on('error', () => resolve());
  });
  req.end();
  return { lines, ended, abort: () => req.destroy(), headers };
}
