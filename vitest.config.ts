import { defineConfig } from 'vitest/config';

// Unit tests mirror src/ and start nothing but loopback helpers of their own; end-to-end tests
// drive real servers (the fake cluster, Redis, nginx, Chromium, kubectl) through the proxy.
const E2E = ['test/e2e/**/*.test.ts', 'test/security/**/*.test.ts', 'test/examples/**/*.test.ts', 'test/testing/**/*.test.ts', 'test/redis/**/*.test.ts', 'test/package.test.ts'];

const shared = {
  resolve: { conditions: ['kcp-source'] },
  ssr: { resolve: { conditions: ['kcp-source'] } },
};

export default defineConfig({
  ...shared,
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      { ...shared, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: E2E, testTimeout: 30_000, hookTimeout: 30_000 } },
      { ...shared, test: { name: 'e2e', include: E2E, testTimeout: 30_000, hookTimeout: 30_000 } },
    ],
  },
});
