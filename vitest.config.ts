import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'sandbox/test/**/*.test.ts', 'relay/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: run files in parallel, but not more workers than cores.
    maxWorkers: 2,
    server: { deps: { inline: ['electron-store'] } },
  },
});
