import { ACCOUNTS, expect, test } from './fixtures.ts';

/*
 * S4 (en): the player unlinks in the wallet app (sandbox: wallet-side revoke, TOKEN_CANCELED).
 * The PC returns to "link wallet". Then again while a payment is in flight: that payment
 * ends with exactly one outcome, the same on screen, in the relay's ledger and in the wallet.
 */
test('S4 unlinked in the wallet app, also with a payment in flight: back to "link wallet", one outcome', async ({ launch }) => {
  const app = await launch({ scenario: 's04-unlinked', locale: 'en' });
  const binder = await app.open('?view=bind');
  await app.link(binder, 'AlipayHK', ACCOUNTS.hk);

  await app.stack.admin('POST', '/tokens/revoke', { loginId: ACCOUNTS.hk });
  await expect(binder.getByRole('heading', { name: 'Wallet unlinked' })).toBeVisible({ timeout: 15_000 });
  await expect(binder.getByRole('alert')).toHaveText(app.error('BINDING_REVOKED', 'AlipayHK'));
  await expect(binder.getByRole('button', { name: 'Link again' })).toBeVisible();
  await app.shot(binder, 'unlinked');
  expect((await app.bindings()).map((b) => b.state)).toEqual(['REVOKED']);

  // Link again, then unlink while a payment is in process at Antom.
  await binder.getByRole('button', { name: 'Link again' }).click();
  const code = await app.readQr(binder, 'relink-qr');
  await app.phone(code, 'authorize', { account: ACCOUNTS.hk });
  await expect(binder.getByTestId('linked')).toHaveText('Linked: AlipayHK ••••8812', { timeout: 15_000 });

  await app.stack.admin('POST', '/faults', { endpoint: 'pay', mode: 'U', count: 1, resolveAs: 'S', resolveAfterMs: 30_000 });
  const page = await app.open('?view=purchase&sku=gems-100&qty=1');
  await page.getByTestId('buy').click();
  const result = page.getByTestId('result');
  await expect(result).toHaveAttribute('data-result', 'checking', { timeout: 15_000 });
  await app.shot(page, 'checking');
  await app.stack.admin('POST', '/tokens/revoke', { loginId: ACCOUNTS.hk });
  await expect(binder.getByRole('heading', { name: 'Wallet unlinked' })).toBeVisible({ timeout: 15_000 });
  await app.stack.admin('POST', '/clock', { advanceMs: 31_000 });
  await expect(result).not.toHaveAttribute('data-result', 'checking', { timeout: 15_000 });
  await app.shot(page, 'result');

  const shown = await result.getAttribute('data-result');
  const ledger = await app.ledger();
  expect(ledger).toHaveLength(1);
  const row = ledger[0];
  expect(['SUCCEEDED', 'FAILED', 'CANCELLED']).toContain(row?.state);
  expect(shown === 'succeeded').toBe(row?.state === 'SUCCEEDED');
  const paid = (await app.payments(row?.intent_id as string)).filter((p) => p.status === 'SUCCESS');
  expect(paid).toHaveLength(row?.state === 'SUCCEEDED' ? 1 : 0);
  expect(await app.balance(ACCOUNTS.hk)).toBe(1_000_000 - (row?.state === 'SUCCEEDED' ? 1200 : 0));
  expect(app.main.purchases.pending()).toEqual([]);
});
