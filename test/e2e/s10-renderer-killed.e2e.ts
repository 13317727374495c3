import { ACCOUNTS, expect, test } from './fixtures.ts';

/*
 * S10 (en): the renderer dies right after Buy (the page is closed; main keeps running, as in
 * Electron). After a reload the pending purchase shows "Checking…" and then its final result
 * by itself; nothing is charged twice.
 */
test('S10 renderer killed right after Buy: after reload the pending purchase shows its final result, no second charge', async ({ launch }) => {
  const app = await launch({ scenario: 's10-renderer-killed', locale: 'en' });
  const binder = await app.open('?view=bind');
  await app.link(binder, 'AlipayHK', ACCOUNTS.hk);
  await binder.close();

  // Antom is slow: the payment is in process until 30 s have passed on the sandbox clock.
  await app.stack.admin('POST', '/faults', { endpoint: 'pay', mode: 'U', count: 1, resolveAs: 'S', resolveAfterMs: 30_000 });
  const page = await app.open('?view=purchase&sku=gems-100&qty=1');
  await expect(page.getByTestId('total')).toHaveText('HK$12.00');
  await page.getByTestId('buy').click();
  await expect.poll(() => app.main.purchases.pending().length).toBe(1);
  await page.close(); // killed

  const reloaded = await app.open('?view=purchase&sku=gems-100&qty=1');
  const result = reloaded.getByTestId('result');
  await expect(result).toHaveAttribute('data-result', 'checking', { timeout: 15_000 });
  await expect(result.getByRole('heading')).toHaveText(app.t('buyCheckingTitle'));
  await expect(reloaded.getByTestId('buy')).toHaveCount(0);
  await app.shot(reloaded, 'checking-after-reload');

  await app.stack.admin('POST', '/clock', { advanceMs: 31_000 });
  await expect(result).toHaveAttribute('data-result', 'succeeded', { timeout: 15_000 });
  await expect(result.getByRole('status')).toHaveText('Paid HK$12.00 with AlipayHK. Your item is on its way to your account.');
  await app.shot(reloaded, 'succeeded');

  const ledger = await app.ledger();
  expect(ledger).toHaveLength(1);
  expect(ledger[0]).toMatchObject({ state: 'SUCCEEDED', amount_minor: 1200 });
  expect(await app.payments(ledger[0]?.intent_id as string)).toHaveLength(1);
  expect(await app.balance(ACCOUNTS.hk)).toBe(1_000_000 - 1200);
  expect(app.main.purchases.pending()).toEqual([]);
});
