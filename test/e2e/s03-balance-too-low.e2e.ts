import { ACCOUNTS, expect, test } from './fixtures.ts';

/*
 * S3 (id-ID, DANA): the balance is too low. The dialog says so in Indonesian; after a top-up,
 * "Try again" is a new purchase with a new paymentRequestId — the failed one is closed (F).
 */
test('S3 balance too low: localized message; the retry is a new payment request', async ({ launch }) => {
  const app = await launch({ scenario: 's03-balance', locale: 'id-ID' });
  await app.stack.admin('POST', '/accounts/balance', { loginId: ACCOUNTS.dana, balance: { currency: 'IDR', value: '1000000' } });
  const page = await app.open('?view=bind&sku=gems-100&qty=1');
  await app.link(page, 'DANA', ACCOUNTS.dana);
  await page.getByRole('button', { name: app.t('bindContinue') }).click();
  await expect(page.getByTestId('total')).toHaveText(app.money({ currency: 'IDR', minor: 1_500_000 }));
  await app.shot(page, 'purchase-dialog');

  await page.getByTestId('buy').click();
  const result = page.getByTestId('result');
  await expect(result).toHaveAttribute('data-result', 'balance', { timeout: 15_000 });
  await expect(result.getByRole('heading')).toHaveText(app.t('buyBalanceTitle'));
  await expect(result.getByRole('alert')).toHaveText(app.error('INSUFFICIENT_BALANCE', 'DANA'));
  await app.shot(page, 'balance-too-low');
  const [failed] = await app.ledger();
  expect(failed).toMatchObject({ state: 'FAILED', amount_minor: 1_500_000, currency: 'IDR' });
  expect((await app.payments(failed?.intent_id as string)).map((p) => p.status)).not.toContain('SUCCESS');

  await app.stack.admin('POST', '/accounts/balance', { loginId: ACCOUNTS.dana, balance: { currency: 'IDR', value: '500000000' } });
  await page.getByRole('button', { name: app.t('tryAgain') }).click();
  await page.getByTestId('buy').click();
  await expect(result).toHaveAttribute('data-result', 'succeeded', { timeout: 15_000 });
  await expect(result.getByRole('status')).toHaveText(app.t('buySucceeded', { amount: app.money({ currency: 'IDR', minor: 1_500_000 }), wallet: 'DANA' }));
  await app.shot(page, 'succeeded');

  const ledger = await app.ledger();
  expect(ledger.map((r) => r.state)).toEqual(['FAILED', 'SUCCEEDED']);
  expect(ledger[1]?.payment_request_id).not.toBe(ledger[0]?.payment_request_id);
  expect(ledger[1]?.intent_id).not.toBe(ledger[0]?.intent_id);
  expect(await app.payments(ledger[1]?.intent_id as string)).toHaveLength(1);
  expect(await app.balance(ACCOUNTS.dana)).toBe(500_000_000 - 1_500_000);
});
