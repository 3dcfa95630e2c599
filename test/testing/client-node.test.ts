import { CoreV1Api, Exec, Log, Watch, type V1Pod, type V1Status } from '@kubernetes/client-node';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { Collector, kubeConfigFor } from './kit-helpers.ts';

let fake: FakeCluster;

beforeAll(async () => {
  fake = await startFakeCluster({ name: 'east', tokens: { 'alice-token': { user: 'alice', groups: ['devs'] } } });
});
afterAll(() => fake.close());

const kc = () => kubeConfigFor(fake, { token: 'alice-token' });

/** Runs a command with client-node's Exec and resolves with its output and status. */
async function exec(command: string[], stdin?: PassThrough): Promise<{ stdout: string; stderr: string; status: V1Status }> {
  const stdout = new Collector();
  const stderr = new Collector();
  const status = await new Promise<V1Status>((resolve, reject) => {
    new Exec(kc()).exec('default', 'web-east-1', 'app', command, stdout, stderr, stdin ?? null, false, resolve).catch(reject);
  });
  return { stdout: stdout.text, stderr: stderr.text, status };
}

describe('@kubernetes/client-node against the fake cluster', () => {
  it('lists pods in a namespace and across namespaces', async () => {
    fake.addPod({ name: 'db-0', namespace: 'data', labels: { app: 'db' } });
    const api = kc().makeApiClient(CoreV1Api);
    const list = await api.listNamespacedPod({ namespace: 'default' });
    expect(list.items.map((pod) => pod.metadata?.name)).toEqual(['web-east-1', 'web-east-2', 'worker-east-1']);
    const all = await api.listPodForAllNamespaces({ labelSelector: 'app=db' });
    expect(all.items.map((pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`)).toEqual(['data/db-0']);
    const namespaces = await api.listNamespace();
    expect(namespaces.items.map((ns) => ns.metadata?.name)).toEqual(['data', 'default']);
  });

  it('reads a pod that looks like a real one', async () => {
    const pod = await kc().makeApiClient(CoreV1Api).readNamespacedPod({ name: 'web-east-1', namespace: 'default' });
    expect(pod.kind).toBe('Pod');
    expect(pod.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(pod.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(pod.spec?.containers.map((c) => c.name)).toEqual(['app']);
    expect(pod.status?.phase).toBe('Running');
    expect(pod.status?.containerStatuses?.[0]?.ready).toBe(true);
    expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('reports a missing pod as a 404 NotFound Status', async () => {
    const error: unknown = await kc()
      .makeApiClient(CoreV1Api)
      .readNamespacedPod({ name: 'nope', namespace: 'default' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 404 });
    expect(JSON.parse((error as { body: string }).body)).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'pods "nope" not found' });
  });

  it('watches pods: initial ADDED events, then changes made by the test', async () => {
    const events: { type: string; name: string | undefined; phase: string | undefined }[] = [];
    const controller = await new Watch(kc()).watch(
      '/api/v1/namespaces/default/pods',
      {},
      (type, pod: V1Pod) => events.push({ type, name: pod.metadata?.name, phase: pod.status?.phase }),
      () => undefined,
    );
    try {
      await vi.waitFor(() => expect(events).toHaveLength(3));
      expect(events.every((event) => event.type === 'ADDED')).toBe(true);
      await vi.waitFor(() => expect(fake.activeStreams('watch')).toBe(1));
      fake.addPod({ name: 'api-1' });
      fake.updatePod('default', 'api-1', { phase: 'Failed' });
      fake.deletePod('default', 'api-1');
      await vi.waitFor(() => expect(events).toHaveLength(6));
      expect(events.slice(3)).toEqual([
        { type: 'ADDED', name: 'api-1', phase: 'Running' },
        { type: 'MODIFIED', name: 'api-1', phase: 'Failed' },
        { type: 'DELETED', name: 'api-1', phase: 'Failed' },
      ]);
    } finally {
      controller.abort();
    }
    await vi.waitFor(() => expect(fake.activeStreams('watch')).toBe(0));
  });

  it('follows a log: lines appended after the stream opened arrive; the pod ending ends it', async () => {
    const output = new Collector();
    const finished = new Promise((resolve) => output.on('finish', resolve));
    await new Log(kc()).log('default', 'web-east-2', 'app', output, { follow: true, tailLines: 1 });
    await vi.waitFor(() => expect(output.text).toBe('GET /healthz 200\n'));
    fake.appendLog('default', 'web-east-2', 'a new line');
    await vi.waitFor(() => expect(output.text).toBe('GET /healthz 200\na new line\n'));
    expect(fake.activeStreams('log')).toBe(1);
    // (Aborting client-node's Log emits an unhandled AbortError in client-node itself, so end it server-side.)
    fake.updatePod('default', 'web-east-2', { phase: 'Succeeded' });
    await finished;
    expect(fake.activeStreams('log')).toBe(0);
  });

  it('execs a command: output and Success status', async () => {
    const result = await exec(['echo', 'hi', 'there']);
    expect(result).toEqual({ stdout: 'hi there\n', stderr: '', status: { metadata: {}, status: 'Success' } });
  });

  it('reports a non-zero exit as Failure/NonZeroExitCode with the exit code', async () => {
    const { status } = await exec(['sh', '-c', 'exit 3']);
    expect(status).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
  });

  it('separates stderr from stdout and tells who ran the command', async () => {
    expect(await exec(['stderr', 'oops'])).toMatchObject({ stdout: '', stderr: 'oops\n' });
    expect((await exec(['whoami'])).stdout).toBe('alice\n');
  });

  it('echoes stdin with cat until stdin ends (v5 close signal)', async () => {
    const stdin = new PassThrough();
    const running = exec(['cat'], stdin);
    stdin.write('hello ');
    stdin.end('world');
    expect(await running).toMatchObject({ stdout: 'hello world', status: { status: 'Success' } });
  });
});
