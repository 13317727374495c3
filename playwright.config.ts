import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS } from './test/support/chromium-args.ts';

/** Port of the renderer preview server; RENDERER_PORT moves it when 4173 is taken. */
const port = Number(process.env.RENDERER_PORT ?? 4173);

/**
 * Browser tests in Debian's Chromium (never a downloaded browser). The renderer is built and
 * served by `vite preview` on loopback. The `_electron` suite lives in test/electron and runs
 * only where an Electron binary exists (it prints why it skipped otherwise).
 */
export default defineConfig({
  testDir: 'test',
  testMatch: ['browser/**/*.e2e.ts', 'e2e/**/*.e2e.ts', 'electron/**/*.e2e.ts'],
  outputDir: 'test-results/artifacts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  reporter: [['list'], ['json', { outputFile: 'test-results/playwright.json' }]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
    },
    screenshot: 'only-on-failure',
    trace: 'off',
  },
  webServer: {
    command: `npx vite build --config renderer/vite.config.ts --logLevel warn && npx vite preview --config renderer/vite.config.ts --host 127.0.0.1 --port ${port} --strictPort`,
    url: `http://127.0.0.1:${port}`,
    reuseExistingServer: !process.env.CI,
    timeout: 120_000,
  },
});
