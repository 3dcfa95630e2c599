import { defineConfig } from 'vitest/config';

// The HTTP end-to-end tests run once per forwarding engine: a second project repeats them with
// KCP_TEST_ENGINE set, which test/helpers/servers.ts passes to every proxy it starts.
const HTTP_FORWARDING_TESTS = [
  'test/e2e/streaming.test.ts',
  'test/e2e/upstream-failures.test.ts',
  'test/e2e/connection-hygiene.test.ts',
  'test/e2e/server-options.test.ts',
  'test/e2e/cluster-credentials.test.ts',
  'test/e2e/auth-modes.test.ts',
  'test/e2e/hosts.test.ts',
  'test/e2e/forwarding.test.ts',
  'test/security/hostile-input.test.ts',
];

export default defineConfig({
  resolve: { conditions: ['kcp-source'] },
  ssr: { resolve: { conditions: ['kcp-source'] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'undici', include: ['test/**/*.test.ts'], env: { KCP_TEST_ENGINE: 'undici' } } },
      { extends: true, test: { name: 'http-proxy-middleware', include: HTTP_FORWARDING_TESTS, env: { KCP_TEST_ENGINE: 'http-proxy-middleware' } } },
    ],
  },
});
