import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';
import { findElectronBinary } from '../../scripts/electron-binary.ts';

/*
 * Bind and buy in the real app (unpackaged build: `npm run build` first), against the real
 * relay and Antom sandbox started in-process on 127.0.0.1 (as relay/test/support/stack.ts
 * does). Runs wherever an Electron binary exists; elsewhere it skips with the reason printed.
 * The skip check comes first, and the fixtures are imported lazily, so a skipped run starts
 * nothing.
 */
const binary = findElectronBinary();
const built = existsSync(join(process.cwd(), 'out', 'main', 'index.js'));
const reason = !binary
  ? 'no Electron binary on this machine (the electron package has no dist/); see scripts/electron-binary.ts'
  : !built
    ? 'the app is not built: run `npm run build` first'
    : '';
if (reason) console.log(`SKIP test/electron/bind-and-buy.e2e.ts: ${reason}`);

test.describe('bind and buy (Electron)', () => {
  test.skip(reason !== '', reason);
  test.setTimeout(90_000);

  type StackModule = typeof import('../../relay/test/support/stack.ts');
  let support: StackModule;
  let stack: Awaited<ReturnType<StackModule['startStack']>>;

  test.beforeAll(async () => {
    support = await import('../../relay/test/support/stack.ts');
    stack = await support.startStack('sqlite');
  });
  test.afterAll(async () => {
    await stack?.close();
  });

  test('links a wallet by QR, then buys in one click', async () => {
    const userData = mkdtempSync(join(tmpdir(), 'stb-e2e-'));
    const player = `e2e-${Date.now()}`;
    const assertion = stack.assertion(player);
    // The relay's view of this player, to read the QR content the phone would scan.
    stack.launcher.assertion = assertion;
    // The handover `npm start` writes (main/services/handover.ts): read once, then deleted by main.
    const handover = join(userData, 'handover.json');
    writeFileSync(
      handover,
      JSON.stringify({
        relayUrl: stack.relay.url,
        device: { deviceId: stack.launcher.creds.deviceId, deviceSecret: stack.launcher.creds.deviceSecret, kind: 'launcher' },
        playerAssertion: assertion,
        mode: 'window',
      }),
      { mode: 0o600 },
    );
    const app = await electron.launch({
      executablePath: binary ?? undefined,
      args: ['out/main/index.js', ...(process.platform === 'linux' ? ['--no-sandbox'] : [])],
      env: { ...process.env, SCAN_TO_BIND_USER_DATA: userData, SCAN_TO_BIND_HANDOVER: handover },
    });
    try {
      const page = await app.firstWindow();
      expect(page.url()).toMatch(/^app:\/\/app\//);
      const isolated = await page.evaluate(() => typeof (globalThis as { require?: unknown }).require === 'undefined');
      expect(isolated).toBe(true);
      expect(existsSync(handover)).toBe(false);

      await page.getByRole('button', { name: /AlipayHK/ }).click();
      await expect(page.getByRole('img', { name: /QR/i })).toBeVisible();
      const shown = await support.waitFor(
        async () => {
          const r = await stack.launcher.request('GET', '/v1/bindings/current');
          return r.body['state'] === 'QR_SHOWN' ? String(r.body['codeValue']) : undefined;
        },
        10_000,
        'QR_SHOWN at the relay',
      );
      expect(await support.approveOnPhone(shown)).toBeLessThan(300);
      await expect(page.getByText(/Linked: AlipayHK|••••8812/)).toBeVisible({ timeout: 30_000 });

      await page.getByRole('button', { name: /Buy/ }).click();
      await expect(page.getByText(/Paying|Checking your payment|Thank/i)).toBeVisible();
      // One click, one charge at the wallet.
      await support.waitFor(async () => ((await stack.admin('GET', '/state')).body['payments'] as unknown[]).length === 1, 15_000, 'one payment');
    } finally {
      await app.close();
      rmSync(userData, { recursive: true, force: true });
    }
  });
});
