import { once } from 'node:events';
import { get } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTEXTS, startKubectlWorld, type KubectlContext, type KubectlWorld } from '../helpers/kubectl.ts';

let world: KubectlWorld;

beforeAll(async () => {
  world = await startKubectlWorld({
    name: 'pf',
    pods: [
      {
        name: 'web',
        ports: {
          8080: (req, res) => {
            res.setHeader('Content-Type', 'text/plain');
            res.end(`hello from web: ${req.method} ${req.url}\n`);
          },
          7000: 'echo',
        },
      },
    ],
  });
});
afterAll(() => world?.close());

/** Starts `kubectl port-forward`, waits for the local ports it chose, and stops it when `use` is done. */
async function withPortForward(context: KubectlContext, ports: string[], env: Record<string, string>, use: (local: number[], logs: () => string) => Promise<void>): Promise<void> {
  const child = world.start(context, ['port-forward', 'pod/web', ...ports], env);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stdin.end();
  try {
    const local = await new Promise<number[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kubectl port-forward did not start:\n${out}`)), 15_000);
      const check = () => {
        const found = [...out.matchAll(/Forwarding from 127\.0\.0\.1:(\d+) ->/g)].map((match) => Number(match[1]));
        if (found.length === ports.length) {
          clearTimeout(timer);
          resolve(found);
        }
      };
      child.stdout.on('data', check);
      child.once('close', () => reject(new Error(`kubectl port-forward exited:\n${out}`)));
    });
    await use(local, () => out);
  } finally {
    child.kill();
    await once(child, 'close');
  }
}

function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

const MODES = [
  { mode: 'WebSocket tunnel', env: {}, upgrade: 'websocket', protocolHeader: 'sec-websocket-protocol', protocol: 'SPDY/3.1+portforward.k8s.io' },
  { mode: 'SPDY', env: { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }, upgrade: 'SPDY/3.1', protocolHeader: 'x-stream-protocol-version', protocol: 'portforward.k8s.io' },
] as const;

describe('kubectl port-forward to the fake, directly and through the proxy', () => {
  for (const { context, user } of CONTEXTS) {
    for (const { mode, env, upgrade, protocolHeader, protocol } of MODES) {
      it(`reaches the pod's HTTP handler (${context}, ${mode})`, async () => {
        world.fake.clearRequests();
        await withPortForward(context, ['0:8080'], env, async ([port]) => {
          expect(await httpGet(port!, '/first')).toEqual({ status: 200, body: 'hello from web: GET /first\n' });
          // A second local connection is a second pair of streams on the same upgraded connection.
          expect(await httpGet(port!, '/second')).toEqual({ status: 200, body: 'hello from web: GET /second\n' });
        });
        const upgrades = world.fake.requests.filter((request) => request.upgrade);
        expect(upgrades).toHaveLength(1);
        expect(upgrades[0]).toMatchObject({ user, path: '/api/v1/namespaces/default/pods/web/portforward' });
        expect(upgrades[0]?.headers.upgrade).toBe(upgrade);
        expect(upgrades[0]?.headers[protocolHeader]).toBe(protocol);
        expect(world.fake.activeStreams('portforward')).toBeLessThanOrEqual(1);
      });
    }
  }

  it('echoes bytes on an echo port, alongside an HTTP port in the same kubectl', async () => {
    await withPortForward('direct', ['0:8080', '0:7000'], { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }, async ([http, echo]) => {
      const socket = connect(echo!, '127.0.0.1');
      const payload = Buffer.from(Array.from({ length: 200_000 }, (_, index) => index % 251));
      const received: Buffer[] = [];
      let size = 0;
      const all = new Promise<void>((resolve) =>
        socket.on('data', (chunk: Buffer) => {
          received.push(chunk);
          size += chunk.length;
          if (size >= payload.length) resolve();
        }),
      );
      socket.write(payload);
      await all;
      socket.destroy();
      expect(Buffer.concat(received).equals(payload)).toBe(true);
      expect((await httpGet(http!, '/')).status).toBe(200);
    });
  });

  it("reports a port nothing listens on as the kubelet does, through kubectl's error stream", async () => {
    await withPortForward('user', ['0:9999'], {}, async ([port], logs) => {
      const socket = connect(port!, '127.0.0.1');
      await once(socket, 'close');
      await expect.poll(logs, { timeout: 10_000 }).toMatch(/error forwarding port 9999 to pod web, uid [0-9a-f-]+: dial tcp4 127\.0\.0\.1:9999: connect: connection refused/);
    });
  });
});
