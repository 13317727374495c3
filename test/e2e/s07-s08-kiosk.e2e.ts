import { ACCOUNTS, expect, test } from './fixtures.ts';

/*
 * Kiosk visits. The kiosk session's timers run on a fake clock the test advances (idle 90 s,
 * "Still there?" 20 s); everything else is real.
 */
test('S7 kiosk customer walks away mid-binding: idle reset, QR withdrawn, a late scan revoked', async ({ launch }) => {
  const app = await launch({ scenario: 's07-kiosk-walk-away', locale: 'en', device: 'kiosk' });
  const page = await app.open('?view=kiosk');
  await expect(page.getByTestId('attract')).toBeVisible();
  await app.shot(page, 'attract');
  await page.getByRole('button', { name: 'Start' }).click();
  await page.getByRole('button', { name: 'AlipayHK', exact: true }).click();
  const code = await app.readQr(page, 'qr');

  await app.kioskClock.advance(90_000);
  await expect(page.getByRole('heading', { name: 'Still there?' })).toBeVisible();
  await app.shot(page, 'still-there');
  await app.kioskClock.advance(20_000);
  await expect(page.getByTestId('attract')).toBeVisible({ timeout: 15_000 });
  await expect(page.getByTestId('qr')).toHaveCount(0);
  await app.shot(page, 'attract-after-reset');
  expect((await app.bindings()).map((b) => b.state)).toEqual(['FAILED']);

  // The customer's phone authorizes the old code after they left: revoked, no binding.
  await app.phone(code, 'authorize', { account: ACCOUNTS.hk });
  await expect.poll(async () => (await app.sandbox()).tokens.map((t) => t.status), { timeout: 15_000 }).toEqual([expect.not.stringMatching(/^ACTIVE$/)]);
  expect((await app.bindings()).map((b) => b.state)).toEqual(['FAILED']);
  expect(app.main.binding.status().state).toBe('NONE');
  await expect(page.getByTestId('attract')).toBeVisible();
  expect(await app.balance(ACCOUNTS.hk)).toBe(1_000_000);
});

test('S8 the next kiosk customer inherits nothing from the previous one', async ({ launch }) => {
  const app = await launch({ scenario: 's08-kiosk-next-customer', locale: 'zh-HK', device: 'kiosk' });
  const page = await app.open('?view=kiosk&sku=gems-100&qty=1');
  await page.getByRole('button', { name: app.t('kioskStart') }).click();
  await page.getByRole('button', { name: app.t('buyLinkWallet') }).click(); // nothing linked yet
  await app.link(page, 'AlipayHK', ACCOUNTS.hk);
  await page.getByRole('button', { name: app.t('bindContinue') }).click();
  await page.getByTestId('buy').click();
  await expect(page.getByTestId('result')).toHaveAttribute('data-result', 'succeeded', { timeout: 15_000 });
  await app.shot(page, 'first-customer-paid');
  await page.getByRole('button', { name: app.t('close') }).click(); // ends the visit

  await expect(page.getByTestId('attract')).toBeVisible({ timeout: 15_000 });
  await app.shot(page, 'attract-for-next');
  await expect.poll(async () => (await app.bindings()).map((b) => b.state)).toEqual(['REVOKED']);
  await expect.poll(async () => (await app.sandbox()).tokens.map((t) => t.status), { timeout: 15_000 }).toEqual([expect.not.stringMatching(/^ACTIVE$/)]);

  // The next customer: nothing linked, nothing to pay with, nothing pending.
  await page.getByRole('button', { name: app.t('kioskStart') }).click();
  await expect(page.getByTestId('result')).toHaveAttribute('data-result', 'unlinked');
  await page.getByRole('button', { name: app.t('buyLinkWallet') }).click();
  await expect(page.getByRole('button', { name: 'AlipayHK', exact: true })).toBeVisible();
  await expect(page.getByText('8812')).toHaveCount(0);
  await app.shot(page, 'next-customer');
  expect(app.main.binding.status()).toMatchObject({ state: 'NONE', maskedAccount: null });
  expect(await app.main.vault.bindingRef(app.main.playerKey)).toBeNull();
  expect(app.main.purchases.pending()).toEqual([]);
  const storage = await page.evaluate(() => localStorage.length + sessionStorage.length);
  expect(storage).toBe(0);
  const ledger = await app.ledger();
  expect(ledger.map((r) => r.state)).toEqual(['SUCCEEDED']);
  expect(await app.balance(ACCOUNTS.hk)).toBe(1_000_000 - 1200);
});
