import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['kcp-source'] },
  ssr: { resolve: { conditions: ['kcp-source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
