import { defineConfig } from 'vitest/config';

// Unit tests mirror src/ and start nothing but loopback helpers of their own; end-to-end tests
// drive real servers (the fake cluster, Redis, nginx, Chromium, kubectl) through the proxy.
const E2E = ['test/e2e/**/*.test.ts', 'test/security/**/*.test.ts', 'test/examples/**/*.test.ts', 'test/testing/**/*.test.ts', 'test/redis/**/*.test.ts', 'test/package.test.ts'];

// The HTTP end-to-end tests run once more on the other forwarding engine: KCP_TEST_ENGINE is what
// test/helpers/servers.ts passes to every proxy it starts.
const HTTP_FORWARDING_TESTS = [
  'test/e2e/streaming.test.ts',
  'test/e2e/upstream-failures.test.ts',
  'test/e2e/connection-hygiene.test.ts',
  'test/e2e/server-options.test.ts',
  'test/e2e/cluster-credentials.test.ts',
  'test/e2e/auth-modes.test.ts',
  'test/e2e/hosts.test.ts',
  'test/e2e/forwarding.test.ts',
  'test/e2e/tracing.test.ts',
  'test/e2e/sharing.test.ts',
  'test/e2e/limits.test.ts',
  'test/security/hostile-input.test.ts',
];

export default defineConfig({
  resolve: { conditions: ['kcp-source'] },
  ssr: { resolve: { conditions: ['kcp-source'] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: E2E } },
      { extends: true, test: { name: 'e2e', include: E2E, env: { KCP_TEST_ENGINE: 'undici' } } },
      { extends: true, test: { name: 'e2e-http-proxy-middleware', include: HTTP_FORWARDING_TESTS, env: { KCP_TEST_ENGINE: 'http-proxy-middleware' } } },
    ],
  },
});
