import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';
import { findElectronBinary } from '../../main/dev/electron-binary.ts';

/*
 * Bind and buy in the real app (unpackaged build: `npm run build` first). Runs wherever an
 * Electron binary exists; elsewhere it skips with the reason printed. The relay and sandbox
 * are the lead's fixtures (scripts/start.ts helpers); this test drives the UI by role.
 */
const binary = findElectronBinary();
const built = existsSync(join(process.cwd(), 'out', 'main', 'index.js'));
const reason = !binary
  ? 'no Electron binary on this machine (the electron package has no dist/); see main/dev/electron-binary.ts'
  : !built
    ? 'the app is not built: run `npm run build` first'
    : '';
if (reason) console.log(`SKIP test/electron/bind-and-buy.e2e.ts: ${reason}`);

test.describe('bind and buy (Electron)', () => {
  test.skip(reason !== '', reason);

  test('links a wallet by QR, then buys in one click', async () => {
    const userData = mkdtempSync(join(tmpdir(), 'stb-e2e-'));
    const app = await electron.launch({
      executablePath: binary ?? undefined,
      args: ['out/main/index.js', ...(process.platform === 'linux' ? ['--no-sandbox'] : [])],
      env: { ...process.env, SCAN_TO_BIND_USER_DATA: userData },
    });
    try {
      const page = await app.firstWindow();
      expect(page.url()).toMatch(/^app:\/\/app\//);
      const isolated = await page.evaluate(() => typeof (globalThis as { require?: unknown }).require === 'undefined');
      expect(isolated).toBe(true);
      await page.getByRole('button', { name: /AlipayHK/ }).click();
      await expect(page.getByRole('img', { name: /QR/i })).toBeVisible();
      await expect(page.getByText(/Linked: AlipayHK/)).toBeVisible({ timeout: 30_000 });
      await page.getByRole('button', { name: /Buy/ }).click();
      await expect(page.getByText(/Paying|Checking your payment|Thank/i)).toBeVisible();
    } finally {
      await app.close();
    }
  });
});
