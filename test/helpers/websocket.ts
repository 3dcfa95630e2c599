import WebSocket from 'ws';

export interface ChannelSession {
  protocol: string;
  /** Text received per channel (1 stdout, 2 stderr, 3 status). */
  output: Map<number, string>;
  /** The status JSON from channel 3, once the command ended. */
  status: { status?: string; reason?: string; details?: { causes?: { message?: string }[] } } | undefined;
}

export type UpgradeResult = { ok: true; session: ChannelSession } | { ok: false; status: number; body: string };

/**
 * Runs a Kubernetes channel-protocol session (exec/attach) with a raw `ws` client, the way browser
 * code does, and collects everything until the server closes.
 */
export function runChannelSession(
  url: string,
  protocols: string[],
  options: { headers?: Record<string, string>; stdin?: string; closeStdin?: boolean } = {},
): Promise<UpgradeResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers: options.headers });
    const output = new Map<number, string>();
    let statusJson: ChannelSession['status'];
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ ok: false, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    ws.on('open', () => {
      if (options.stdin !== undefined) ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(options.stdin)]));
      if (options.closeStdin) ws.send(Buffer.from([255, 0]));
    });
    ws.on('message', (data: Buffer) => {
      const channel = data[0]!;
      const text = data.subarray(1).toString();
      output.set(channel, (output.get(channel) ?? '') + text);
      if (channel === 3 && text !== '') statusJson = JSON.parse(text) as ChannelSession['status'];
    });
    ws.on('close', () => resolve({ ok: true, session: { protocol: ws.protocol, output, status: statusJson } }));
    ws.on('error', (error) => {
      if (ws.readyState !== WebSocket.CLOSED) reject(error);
    });
  });
}

/** Exec URL query for a command, as kubectl and client-node build it. */
export function execQuery(command: string[], stdin = false): string {
  const params = new URLSearchParams();
  for (const part of command) params.append('command', part);
  params.set('stdout', 'true');
  params.set('stderr', 'true');
  if (stdin) params.set('stdin', 'true');
  return params.toString();
}
