import { ACCOUNTS, expect, test } from './fixtures.ts';

/*
 * S2 (zh-HK): the player declines on the phone. Antom tells nobody, so the PC waits out the
 * code (relay clock), then shows a clean timeout and offers a new code.
 */
test('S2 decline on the phone: clean timeout, then a new code', async ({ launch }) => {
  const app = await launch({ scenario: 's02-decline', locale: 'zh-HK', relay: { bindings: { maxCodeRefreshes: 0 } } as never });
  const page = await app.open('?view=bind');
  await page.getByRole('button', { name: 'AlipayHK', exact: true }).click();
  const code = await app.readQr(page, 'qr');
  const phone = await app.phone(code, 'decline', { account: ACCOUNTS.hk });
  await app.shot(phone, 'phone-declined');
  // Nothing reaches the PC: it still shows the code.
  await expect(page.getByRole('heading', { name: app.t('bindScanTitle', { wallet: 'AlipayHK' }) })).toBeVisible();

  app.stack.clock.advance(15 * 60_000 + 1_000);
  await expect(page.getByRole('heading', { name: app.t('bindExpiredTitle') })).toBeVisible({ timeout: 15_000 });
  await expect(page.getByRole('alert')).toHaveText(app.error('QR_REFRESH_LIMIT', 'AlipayHK'));
  await expect(page.getByTestId('qr')).toHaveCount(0);
  await app.shot(page, 'timeout');

  await page.getByRole('button', { name: app.t('bindNewCode') }).click();
  const fresh = await app.readQr(page, 'new-code', code);
  expect(fresh).not.toBe(code);

  const bindings = await app.bindings();
  expect(bindings.map((b) => b.state)).toEqual(['EXPIRED', 'QR_SHOWN']);
  expect((await app.sandbox()).tokens).toEqual([]);
  expect(await app.ledger()).toEqual([]);
  expect(await app.balance(ACCOUNTS.hk)).toBe(1_000_000);
});
