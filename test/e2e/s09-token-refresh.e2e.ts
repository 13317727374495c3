import { ACCOUNTS, type E2eApp, expect, test } from './fixtures.ts';

/*
 * S9 (zh-HK, AlipayHK): the wallet's access token nears its expiry and the relay refreshes it
 * by itself (bindings.tokenRefreshLeadMs before accessTokenExpiryTime); the player notices
 * nothing and the next one-click purchase pays with the new token. Later the refresh token is
 * dead at the wallet: the relay's refresh is refused, the binding ends EXPIRED with
 * BINDING_EXPIRED, and the screen asks the player to link again; no Buy can charge.
 *
 * Time moves on two clocks kept in step: the sandbox's (token lifetimes, `POST /__admin/clock`)
 * and the relay's (`stack.clock`, which the PC's request signatures also follow).
 */

const MINUTE = 60_000;
/** Access tokens of this test live 10 minutes; the relay refreshes 5 minutes before (its default lead). */
const ACCESS_TTL_MS = 10 * MINUTE;
const PRICE = { currency: 'HKD', minor: 1200 } as const;

/** Moves the sandbox's clock, then the relay's (and so the PC's), by the same amount. */
async function advance(app: E2eApp, ms: number): Promise<void> {
  const r = await app.stack.admin('POST', '/clock', { advanceMs: ms });
  expect(r.status).toBe(200);
  app.stack.clock.advance(ms);
}

/** The relay's binding rows with the columns this scenario looks at. */
function bindingRows(app: E2eApp) {
  return app.stack.relay.store.db
    .selectFrom('bindings')
    .select(['id', 'state', 'error_code', 'access_token_enc', 'access_token_hash', 'access_token_expires_at', 'refresh_token_enc'])
    .orderBy('created_at')
    .execute();
}

/** The sandbox's tokens of one account (accessToken is masked by the sandbox). */
async function tokensOf(app: E2eApp, loginId: string) {
  return ((await app.sandbox()).tokens as Array<{ loginId: string; status: string; accessToken: string }>).filter((t) => t.loginId === loginId);
}

test('S9 A token near expiry refreshes silently; an expired refresh token asks the player to scan again', async ({ launch }) => {
  const app = await launch({ scenario: 's09-token-refresh', locale: 'zh-HK' });
  expect((await app.stack.admin('POST', '/settings', { accessTokenTtlMs: ACCESS_TTL_MS })).status).toBe(200);

  const binder = await app.open('?view=bind');
  await app.link(binder, 'AlipayHK', ACCOUNTS.hk);
  await expect(binder.getByTestId('linked')).toHaveText(app.t('bindLinked', { wallet: 'AlipayHK', account: '••••8812' }));
  await app.shot(binder, 'linked');
  await binder.close();

  const [linked] = await bindingRows(app);
  expect(linked).toMatchObject({ state: 'ACTIVE', error_code: null });
  const firstExpiry = Number(linked?.access_token_expires_at);
  expect(firstExpiry - app.stack.clock.now()).toBeGreaterThan(ACCESS_TTL_MS - MINUTE);
  expect(firstExpiry - app.stack.clock.now()).toBeLessThanOrEqual(ACCESS_TTL_MS + 5_000);
  const [firstToken] = await tokensOf(app, ACCOUNTS.hk);
  expect(firstToken?.status).toBe('ACTIVE');

  // ---- Part 1: near expiry, the relay refreshes; the player only sees the purchase dialog.
  const page = await app.open('?view=purchase&sku=gems-100&qty=1');
  await expect(page.getByTestId('total')).toHaveText(app.money(PRICE));
  await app.shot(page, 'purchase-before-refresh');

  // Six minutes on: inside the 5-minute lead, while the token still works for four more.
  await advance(app, 6 * MINUTE);
  await expect
    .poll(async () => (await bindingRows(app))[0]?.access_token_hash, { message: 'the relay rotated the token', timeout: 10_000 })
    .not.toBe(linked?.access_token_hash);
  const [refreshed] = await bindingRows(app);
  expect(refreshed).toMatchObject({ id: linked?.id, state: 'ACTIVE', error_code: null });
  expect(Buffer.compare(Buffer.from(refreshed?.access_token_enc as never), Buffer.from(linked?.access_token_enc as never))).not.toBe(0);
  expect(Number(refreshed?.access_token_expires_at)).toBeGreaterThan(firstExpiry);
  const tokens = await tokensOf(app, ACCOUNTS.hk);
  expect(tokens.map((t) => t.status)).toEqual(['REPLACED', 'ACTIVE']);
  const newToken = tokens[1]?.accessToken as string;
  expect(newToken).not.toBe(firstToken?.accessToken);
  // Main hears of the rotation by its event stream (REFRESHING, then ACTIVE), after the relay's
  // row: on a loaded machine the second push may still be on its way when the row is read.
  await expect.poll(() => app.main.binding.status(), { message: "main's binding back to ACTIVE", timeout: 10_000 }).toMatchObject({ state: 'ACTIVE' });

  // Nothing asked the player to link again: the same dialog, Buy still there.
  await expect(page.getByTestId('result')).toHaveCount(0);
  await expect(page.getByRole('button', { name: app.t('buyLinkWallet') })).toHaveCount(0);
  await expect(page.getByTestId('buy')).toHaveText(app.t('buyButton'));
  await app.shot(page, 'purchase-after-silent-refresh');

  await page.getByTestId('buy').click();
  const result = page.getByTestId('result');
  await expect(result).toHaveAttribute('data-result', 'succeeded', { timeout: 15_000 });
  await expect(result.getByRole('status')).toHaveText(app.t('buySucceeded', { amount: app.money(PRICE), wallet: 'AlipayHK' }));
  await app.shot(page, 'succeeded-with-new-token');

  let ledger = await app.ledger();
  expect(ledger).toHaveLength(1);
  expect(ledger[0]).toMatchObject({ state: 'SUCCEEDED', amount_minor: 1200, currency: 'HKD', error_code: null });
  const paid = (await app.payments(ledger[0]?.intent_id as string)) as Array<{ status?: string; accessToken?: string }>;
  expect(paid).toHaveLength(1);
  expect(paid[0]).toMatchObject({ status: 'SUCCESS', accessToken: newToken });
  expect(await app.balance(ACCOUNTS.hk)).toBe(1_000_000 - 1200);
  expect((await bindingRows(app)).map((b) => b.id)).toEqual([linked?.id]);
  await page.close();

  // ---- Part 2: the wallet ends the refresh token; the access token runs out; the relay's
  // refresh is refused and the binding expires.
  const stale = await app.open('?view=purchase&sku=gems-100&qty=1');
  await expect(stale.getByTestId('buy')).toBeVisible();
  expect((await app.stack.admin('POST', '/tokens/expire', { loginId: ACCOUNTS.hk, refresh: true })).status).toBe(200);
  // Past the relay's next refresh time and past the access token's own expiry.
  await advance(app, ACCESS_TTL_MS + MINUTE);
  await expect.poll(async () => (await bindingRows(app))[0]?.state, { message: 'the binding expired', timeout: 10_000 }).toBe('EXPIRED');
  const [ended] = await bindingRows(app);
  expect(ended).toMatchObject({ id: linked?.id, state: 'EXPIRED', error_code: 'BINDING_EXPIRED', access_token_enc: null, refresh_token_enc: null });
  expect(app.stack.logs.some((l) => l.includes('refresh rejected') && l.includes('EXPIRED_REFRESH_TOKEN'))).toBe(true);
  await expect.poll(() => app.main.binding.status().state).toBe('EXPIRED');

  // A Buy from a dialog opened before the expiry is refused: "link again", nothing charged.
  await stale.getByTestId('buy').click();
  const refused = stale.getByTestId('result');
  await expect(refused).toHaveAttribute('data-result', 'unlinked', { timeout: 15_000 });
  await expect(refused.getByRole('heading')).toHaveText(app.t('buyUnlinkedTitle'));
  await expect(refused.getByRole('alert')).toHaveText(app.error('BINDING_EXPIRED', 'AlipayHK'));
  await expect(stale.getByRole('button', { name: app.t('buyLinkWallet') })).toBeVisible();
  await expect(stale.getByTestId('buy')).toHaveCount(0);
  await app.shot(stale, 'buy-refused-link-again');

  // A new purchase window cannot even offer Buy: it asks to link again.
  const fresh = await app.open('?view=purchase&sku=gems-100&qty=1');
  const freshResult = fresh.getByTestId('result');
  await expect(freshResult).toHaveAttribute('data-result', 'unlinked', { timeout: 15_000 });
  // No quote, so the dialog does not name the wallet here ("your wallet link").
  await expect(freshResult.getByRole('alert')).toHaveText(app.error('BINDING_EXPIRED'));
  await expect(fresh.getByTestId('buy')).toHaveCount(0);
  await app.shot(fresh, 'purchase-link-again');

  ledger = await app.ledger();
  expect(ledger.filter((r) => r.state === 'SUCCEEDED')).toHaveLength(1);
  expect(ledger.every((r) => r.state === 'SUCCEEDED' || r.state === 'FAILED')).toBe(true);
  expect((await app.sandbox()).payments).toHaveLength(1);
  expect(await app.balance(ACCOUNTS.hk)).toBe(1_000_000 - 1200);

  // "Link again" leads to the binding screen, which says the link expired and offers to link again.
  await fresh.getByRole('button', { name: app.t('buyLinkWallet') }).click();
  await expect(fresh.getByRole('heading', { level: 1 })).toHaveText(app.t('bindLapsedTitle'));
  await expect(fresh.getByRole('alert')).toHaveText(app.error('BINDING_EXPIRED', 'AlipayHK'));
  await app.shot(fresh, 'bind-link-expired');
  await fresh.getByRole('button', { name: app.t('bindLinkAgain') }).click();
  const code = await app.readQr(fresh, 'scan-again-qr');
  await app.phone(code, 'authorize', { account: ACCOUNTS.hk });
  await expect(fresh.getByTestId('linked')).toContainText('8812', { timeout: 15_000 });
  await app.shot(fresh, 'linked-again');
  const rows = await bindingRows(app);
  expect(rows.map((b) => b.state)).toEqual(['EXPIRED', 'ACTIVE']);
  expect(rows[1]?.id).not.toBe(linked?.id);
});
