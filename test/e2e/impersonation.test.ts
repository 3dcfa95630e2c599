import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCluster, type FakeCluster } from 'kube-cluster-proxy/testing';
import { send, startProxyHost, type ProxyHost } from '../helpers/servers.ts';

let fake: FakeCluster;
let host: ProxyHost;
beforeAll(async () => {
  fake = await startFakeCluster({ name: 'imp', tokens: { 'admin-token': { user: 'admin', groups: ['system:masters'] }, 'alice-token': 'alice' } });
  host = await startProxyHost({
    clusters: [
      {
        name: 'as-jane',
        server: fake.url,
        ca: fake.ca,
        credentials: { token: 'admin-token' },
        authMode: 'user-then-cluster',
        impersonate: { user: 'jane', groups: ['developers', 'viewers'], extra: { 'example.com/team': ['a'] } },
      },
    ],
  });
});
afterAll(async () => {
  await host.close();
  await fake.close();
});

const whoami = (headers: Record<string, string> = {}) =>
  send(`${host.url}/clusters/as-jane/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}',
  });

describe('impersonation of the kubeconfig as / as-groups / as-user-extra', () => {
  it("is sent with the cluster's own credentials, replacing any client Impersonate-*", async () => {
    const res = await whoami({ 'impersonate-user': 'root', 'impersonate-group': 'system:masters' });
    expect(res.json()).toMatchObject({ status: { userInfo: { username: 'jane', groups: expect.arrayContaining(['developers', 'viewers']) } } });
    const seen = fake.requests.at(-1)!;
    expect(seen.headers['impersonate-user']).toBe('jane');
    expect(seen.headers['impersonate-group']).toBe('developers, viewers');
    expect(seen.headers['impersonate-extra-example.com%2fteam']).toBe('a');
  });

  it("is never sent with the user's own token", async () => {
    const res = await whoami({ authorization: 'Bearer alice-token' });
    expect(res.json()).toMatchObject({ status: { userInfo: { username: 'alice' } } });
    expect(fake.requests.at(-1)!.headers['impersonate-user']).toBeUndefined();
  });
});
