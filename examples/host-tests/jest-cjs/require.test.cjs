// Jest in CommonJS mode: require() loads the package's ES modules (Jest 30 on Node >= 24.9, with
// NODE_OPTIONS=--experimental-vm-modules).
const { test, expect } = require('@jest/globals');
const { serve, startFakeCluster, testClient } = require('kube-cluster-proxy/testing');
const express = require('express');
const { createClusterProxy } = require('kube-cluster-proxy');

test('a CommonJS host lists pods through the proxy', async () => {
  await using fake = await startFakeCluster({ tokens: { 'alice-token': 'alice' } });
  const proxy = createClusterProxy({ clusters: [fake.clusterConfig('dev')] });
  await using server = await serve(express().use(proxy.mountPath, proxy), { proxy });
  const { status, body } = await testClient(`${server.url}/clusters/dev`, { token: 'alice-token' }).get('/api/v1/pods');
  expect(status).toBe(200);
  expect(body.items.map((pod) => pod.metadata.name)).toEqual(['web-fake-1', 'web-fake-2', 'worker-fake-1']);
});
