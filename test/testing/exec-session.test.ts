import { setTimeout as delay } from 'node:timers/promises';
import type { Readable, Writable } from 'node:stream';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecContext } from 'kube-cluster-proxy/testing';
import { CONTEXTS, startKubectlWorld, type KubectlContext, type KubectlWorld } from '../helpers/kubectl.ts';
import { openSpdy } from '../helpers/spdy-client.ts';
import { startTerminal } from '../helpers/terminal.ts';

let world: KubectlWorld;
let lastExec: ExecContext | undefined;

beforeAll(async () => {
  world = await startKubectlWorld({
    name: 'tty',
    pods: [{ name: 'web' }],
    exec: (ctx) => {
      lastExec = ctx;
      return ctx.builtin();
    },
  });
});
afterAll(() => world?.close());

const TRANSPORTS = [
  { transport: 'WebSocket', env: {}, upgrade: 'websocket' },
  { transport: 'SPDY', env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' }, upgrade: 'SPDY/3.1' },
] as const;

/** `kubectl exec -it web -- sh` on a 40x100 terminal: reads the size, resizes the window, reads it again, exits 3. */
async function shellWithResize(context: KubectlContext, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const terminal = startTerminal(['kubectl', '--context', context, 'exec', '-it', 'web', '--', 'sh'], world.env(context, env), { rows: 40, cols: 100 });
  // kubectl sends sizes asynchronously (the first one, and one per SIGWINCH): ask until it arrived (bounded).
  const askSizeUntil = async (expected: string) => {
    let from = terminal.output().length;
    for (let attempt = 0; attempt < 20; attempt++) {
      terminal.type('stty size\r');
      const answer = await terminal.waitFor(/\r\n\d+ \d+\n/, from);
      from = terminal.output().length;
      if (answer.includes(expected)) return;
      await delay(100);
    }
  };
  try {
    await terminal.waitFor(/web:\/# /);
    await askSizeUntil('40 100');
    terminal.resize(50, 132);
    await askSizeUntil('50 132');
    terminal.type('exit 3\r');
    return { code: await terminal.exited, output: terminal.output() };
  } finally {
    terminal.kill();
  }
}

describe('kubectl exec -it: a terminal, its size and a resize', () => {
  for (const { context, user } of CONTEXTS) {
    for (const { transport, env, upgrade } of TRANSPORTS) {
      it(`${context}, ${transport}`, async () => {
        world.fake.clearRequests();
        const { code, output } = await shellWithResize(context, env);
        expect(output).toContain('\r\n40 100\n');
        expect(output).toContain('\r\n50 132\n');
        expect(output).toContain('command terminated with exit code 3');
        expect(code).toBe(3);
        const upgrades = world.fake.requests.filter((request) => request.upgrade);
        expect(upgrades.map((request) => [request.headers.upgrade, request.user])).toEqual([[upgrade, user]]);
        expect(upgrades[0]?.path).toContain('tty=true');
      });
    }
  }
});

describe('kubectl exec over SPDY', () => {
  const spdy = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' };

  it('runs commands, passes stdin and exit codes, and negotiates v5 as the apiserver does', async () => {
    world.fake.clearRequests();
    expect(await world.run('user', ['exec', 'web', '--', 'whoami'], { env: spdy })).toMatchObject({ code: 0, stdout: 'alice\n', stderr: '' });
    const upgrade = world.fake.requests.find((request) => request.upgrade);
    expect(upgrade?.headers['x-stream-protocol-version']).toMatch(/^v5\.channel\.k8s\.io/);
    expect(await world.run('cluster', ['exec', '-i', 'web', '--', 'cat'], { env: spdy, input: 'piped in\n' })).toMatchObject({ code: 0, stdout: 'piped in\n' });
    const failed = await world.run('direct', ['exec', 'web', '--', 'sh', '-c', 'stderr oops'], { env: spdy });
    expect(failed).toMatchObject({ code: 0, stdout: '', stderr: 'oops\n' });
    const exited = await world.run('direct', ['exec', 'web', '--', 'sh', '-c', 'exit 7'], { env: spdy });
    expect(exited.code).toBe(7);
    expect(exited.stderr).toContain('command terminated with exit code 7');
  });

  it("gets the proxy's 401 Status when kubectl sends no token (plain HTTP), over SPDY as over WebSocket", async () => {
    for (const env of [spdy, {}]) {
      world.fake.clearRequests();
      const { code, stderr } = await world.run('plain-http', ['exec', 'web', '--', 'whoami'], { env });
      expect(code).not.toBe(0);
      expect(stderr).toMatch(/Unauthorized|provide credentials/);
      expect(stderr).not.toContain('alice-token');
      expect(world.fake.requests).toHaveLength(0);
    }
  });

  it('refuses a stream protocol it does not speak with a 403 Status, and a missing one with a 400', async () => {
    const path = '/api/v1/namespaces/default/pods/web/exec?command=whoami&stdout=true';
    const auth = { Authorization: 'Bearer admin-token' };
    const refused = await openSpdy(world.fake.url, world.fake.ca, path, { ...auth, 'X-Stream-Protocol-Version': 'v9.channel.k8s.io' });
    expect(refused).toMatchObject({ status: 403 });
    expect(JSON.parse((refused as { body: string }).body)).toMatchObject({ kind: 'Status', reason: 'Forbidden', message: expect.stringContaining('unable to negotiate protocol') });
    const missing = await openSpdy(world.fake.url, world.fake.ca, path, auth);
    expect(missing).toMatchObject({ status: 400 });
    expect(JSON.parse((missing as { body: string }).body)).toMatchObject({ message: 'unable to upgrade: X-Stream-Protocol-Version is required' });
  });
});

/** Waits until `amount()` stops changing (bounded), as a sender fills every buffer on its way. */
async function settled(amount: () => number): Promise<number> {
  let previous = -1;
  let steady = 0;
  for (let polls = 0; polls < 200 && steady < 5; polls++) {
    await delay(50);
    const now = amount();
    steady = now === previous ? steady + 1 : 0;
    previous = now;
  }
  return previous;
}

function bufferedIn(stream: Readable | Writable): number {
  return ('readableLength' in stream ? stream.readableLength : 0) + ('writableLength' in stream ? stream.writableLength : 0);
}

describe('backpressure: `cat` with a client that sends but never reads', () => {
  const TOTAL = 64 * 1024 * 1024;
  const chunk = Buffer.alloc(64 * 1024, 7);
  const path = '/api/v1/namespaces/default/pods/web/exec?command=cat&stdin=true&stdout=true';

  it('over WebSocket: the fake stops reading instead of buffering stdin', async () => {
    lastExec = undefined;
    const ws = new WebSocket(`${world.fake.url.replace('https', 'wss')}${path}`, ['v5.channel.k8s.io'], { ca: world.fake.ca, headers: { Authorization: 'Bearer admin-token' } });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    try {
      ws.pause();
      for (let sent = 0; sent < TOTAL; sent += chunk.length) ws.send(Buffer.concat([Buffer.of(0), chunk]));
      const unsent = await settled(() => ws.bufferedAmount);
      expect(unsent).toBeGreaterThan(0);
      expect(bufferedIn(lastExec!.stdin) + bufferedIn(lastExec!.stdout)).toBeLessThan(1024 * 1024);
    } finally {
      ws.terminate();
    }
  });

  it('over SPDY: the fake stops reading instead of buffering stdin', async () => {
    lastExec = undefined;
    const attempt = await openSpdy(world.fake.url, world.fake.ca, path, { Authorization: 'Bearer admin-token', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' });
    if (!('client' in attempt)) throw new Error(`SPDY upgrade refused: ${attempt.status} ${attempt.body}`);
    const { client } = attempt;
    try {
      for (const [id, type] of [[1, 'error'], [3, 'stdin'], [5, 'stdout']] as const) await client.open(id, { streamtype: type });
      await client.frame((frame) => frame.type === 'syn_reply' && frame.streamId === 5);
      client.socket.pause();
      for (let sent = 0; sent < TOTAL; sent += chunk.length) client.data(3, chunk);
      const unsent = await settled(() => client.socket.writableLength);
      expect(unsent).toBeGreaterThan(0);
      expect(bufferedIn(lastExec!.stdin) + bufferedIn(lastExec!.stdout)).toBeLessThan(1024 * 1024);
    } finally {
      client.socket.destroy();
    }
  });
});
