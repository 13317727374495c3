/**
 * Flags for Debian's Chromium under automation (the Playwright suites and the bench): no sandbox
 * as root in CI, no GPU, and none of the background connections this machine's closed network
 * refuses (updates, sync, QUIC).
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];
