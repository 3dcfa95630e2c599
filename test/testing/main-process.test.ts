import { Attach } from '@kubernetes/client-node';
import { PassThrough } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ExecContext } from 'kube-cluster-proxy/testing';
import { CONTEXTS, startKubectlWorld, type KubectlContext, type KubectlWorld } from '../helpers/kubectl.ts';
import { startTerminal } from '../helpers/terminal.ts';
import { Collector } from './kit-helpers.ts';

let world: KubectlWorld;
let counterStarts = 0;

/** A main process with state: numbers the lines it reads, so a second attach shows it kept running. */
async function counter(ctx: ExecContext): Promise<number> {
  counterStarts++;
  let count = 0;
  for await (const chunk of ctx.stdin) {
    for (const line of (chunk as Buffer).toString('utf8').split('\n').filter((text) => text !== '')) ctx.stdout.write(`${++count}: ${line}\n`);
  }
  return 0;
}

beforeAll(async () => {
  world = await startKubectlWorld({
    name: 'attach',
    pods: [
      { name: 'shell', containers: [{ name: 'app', command: ['sh'], tty: true }] },
      { name: 'counter', containers: [{ name: 'app', command: ['counter'] }] },
    ],
    exec: (ctx) => (ctx.argv[0] === 'counter' ? counter(ctx) : ctx.builtin()),
  });
});
afterAll(() => world?.close());

/** `kubectl attach -it shell` on a 30x90 terminal: the running shell answers, sees the size, and exits 4. */
async function attachToShell(context: KubectlContext, env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const terminal = startTerminal(['kubectl', '--context', context, 'attach', '-it', 'shell'], world.env(context, env), { rows: 30, cols: 90 });
  try {
    await terminal.waitFor(/If you don't see a command prompt, try pressing enter\./);
    let from = terminal.output().length;
    for (let attempt = 0; attempt < 20; attempt++) {
      terminal.type('stty size\r');
      const answer = await terminal.waitFor(/\r\n\d+ \d+\n/, from);
      from = terminal.output().length;
      if (answer.includes('30 90')) break;
      await delay(100);
    }
    terminal.type(`echo attached via ${context}\r`);
    await terminal.waitFor(new RegExp(`\\r\\nattached via ${context}\\n`));
    terminal.type('exit 4\r');
    return { code: await terminal.exited, output: terminal.output() };
  } finally {
    terminal.kill();
  }
}

describe('kubectl attach -it to a pod whose container runs a shell', () => {
  it('shows the container spec kubectl needs (stdin, tty, command)', async () => {
    const { stdout } = await world.run('direct', ['get', 'pod', 'shell', '-o', 'jsonpath={.spec.containers[0]}']);
    expect(JSON.parse(stdout)).toMatchObject({ name: 'app', command: ['sh'], stdin: true, tty: true });
  });

  for (const { context, user } of CONTEXTS) {
    it(`${context}, WebSocket`, async () => {
      world.fake.clearRequests();
      const { code, output } = await attachToShell(context);
      expect(output).toContain('\r\n30 90\n');
      expect(output).toContain('command terminated with exit code 4');
      expect(code).toBe(4);
      expect(world.fake.requests.filter((request) => request.upgrade).map((request) => [request.path.split('?')[0], request.user])).toEqual([['/api/v1/namespaces/default/pods/shell/attach', user]]);
    });
  }

  it('direct, SPDY', async () => {
    const { code, output } = await attachToShell('direct', { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' });
    expect(output).toContain('attached via direct');
    expect(code).toBe(4);
  });
});

describe("@kubernetes/client-node's Attach through the proxy", () => {
  async function attachOnce(line: string, expected: string): Promise<void> {
    const stdout = new Collector();
    const stdin = new PassThrough();
    const ws = await new Attach(world.kubeConfig('user')).attach('default', 'counter', 'app', stdout, null, stdin, false);
    try {
      stdin.write(`${line}\n`);
      await vi.waitFor(() => expect(stdout.text).toBe(expected));
    } finally {
      ws.close();
    }
    await vi.waitFor(() => expect(world.fake.activeStreams('attach')).toBe(0));
  }

  it('reaches the running process, which keeps running between attaches', async () => {
    await attachOnce('first', '1: first\n');
    await attachOnce('second', '2: second\n');
    expect(counterStarts).toBe(1);
  });
});
