import { ACCOUNTS, expect, test } from './fixtures.ts';
import { CLIENT_REQUEST_TIMEOUT_MS } from './host/client-main.ts';

/**
 * The relay's Antom timeout for this scenario: longer than the PC's own request timeout, as in
 * production (15 s against the client's 10 s), so the PC gives up on the relay first.
 */
const ANTOM_TIMEOUT_MS = CLIENT_REQUEST_TIMEOUT_MS + 2_000;

/*
 * S6 (id-ID): the PC's network drops right after Buy (the proxy in front of the relay is cut
 * while the relay is still talking to Antom); separately, the relay's call to Antom times out
 * (sandbox fault `timeout`; the relay's Antom timeout is longer than the PC's request timeout,
 * as in production). Both show "Checking your payment…" and then the final result, which
 * matches the ledger and the wallet.
 */
test('S6 network drop after Buy: "Checking payment…", then a result matching the ledger', async ({ launch }) => {
  const app = await launch({ scenario: 's06-network', locale: 'id-ID' });
  const binder = await app.open('?view=bind');
  await app.link(binder, 'DANA', ACCOUNTS.dana);
  await binder.close();
  const price = { currency: 'IDR', minor: 1_500_000 } as const;

  // 1. The cable is pulled while the relay waits on a slow Antom. The delay is long enough that
  // the cut always lands while the confirm is in flight, even on a loaded machine.
  await app.stack.admin('POST', '/faults', { endpoint: 'pay', mode: 'delay', count: 1, delayMs: 6_000 });
  // Antom's notifyPayment is held back, so the result can only reach the PC after the cable is
  // back (otherwise the notification could settle the purchase before the cut matters).
  await app.stack.admin('POST', '/notifications/faults', { mode: 'withhold', count: 1 });
  const page = await app.open('?view=purchase&sku=gems-100&qty=1');
  await expect(page.getByTestId('total')).toHaveText(app.money(price));
  await page.getByTestId('buy').click();
  app.proxy.cut(); // right after Buy: the confirm is on its way to (or waiting on) the relay
  const result = () => page.getByTestId('result');
  await expect(result()).toHaveAttribute('data-result', 'checking', { timeout: 15_000 });
  await expect(result().getByRole('heading')).toHaveText(app.t('buyCheckingTitle'));
  await expect(page.getByTestId('buy')).toHaveCount(0);
  await app.shot(page, 'checking-offline');
  app.proxy.restore();
  await app.stack.admin('POST', '/notifications/release');
  await expect(result()).toHaveAttribute('data-result', 'succeeded', { timeout: 20_000 });
  await app.shot(page, 'succeeded-after-reconnect');
  const ledger = await app.ledger();
  expect(ledger.map((r) => r.state)).toEqual(['SUCCEEDED']);
  expect(await app.balance(ACCOUNTS.dana)).toBe(500_000_000 - 1_500_000);
});

test('S6 the relay→sandbox call times out (relay timeout above the PC\'s): "Checking payment…", then the result', async ({ launch }) => {
  // 2. The relay's call to Antom times out: Antom processed it, nobody heard the answer. The
  // sandbox holds the answer longer than the relay waits, and the relay waits longer than the PC.
  const app = await launch({ scenario: 's06-antom-timeout', locale: 'id-ID', antomTimeoutMs: ANTOM_TIMEOUT_MS });
  const binder = await app.open('?view=bind');
  await app.link(binder, 'DANA', ACCOUNTS.dana);
  await binder.close();
  const price = { currency: 'IDR', minor: 1_500_000 } as const;
  const result = () => page.getByTestId('result');
  await app.stack.admin('POST', '/faults', { endpoint: 'pay', mode: 'timeout', count: 1, delayMs: ANTOM_TIMEOUT_MS + 10_000 });
  // Antom's payment notification is held back too (else it settles the purchase at once and
  // nobody waits): the relay learns the result only from its own inquiry after the timeout.
  await app.stack.admin('POST', '/notifications/faults', { mode: 'withhold', count: 1 });
  const page = await app.open('?view=purchase&sku=gems-100&qty=1');
  await expect(page.getByTestId('total')).toHaveText(app.money(price));
  await page.getByTestId('buy').click();
  // The PC's request runs out first: the purchase is unknown, so "Checking your payment…" and
  // no Buy button (never a second charge) while the relay still waits on Antom.
  await expect(result()).toHaveAttribute('data-result', 'checking', { timeout: ANTOM_TIMEOUT_MS });
  await expect(result().getByRole('heading')).toHaveText(app.t('buyCheckingTitle'));
  await expect(result().getByRole('status')).toHaveText(app.error('PAYMENT_PENDING', 'DANA'));
  await expect(page.getByTestId('buy')).toHaveCount(0);
  await app.shot(page, 'checking-antom-timeout');
  // Then the relay gives up on Antom, inquires, and the final result arrives by itself.
  await expect(result()).toHaveAttribute('data-result', 'succeeded', { timeout: 20_000 });
  await expect(result().getByRole('status')).toHaveText(app.t('buySucceeded', { amount: app.money(price), wallet: 'DANA' }));
  await app.shot(page, 'succeeded-after-inquiry');

  // The held notification arriving late changes nothing.
  await app.stack.admin('POST', '/notifications/release');
  const ledger = await app.ledger();
  expect(ledger.map((r) => r.state)).toEqual(['SUCCEEDED']);
  for (const r of ledger) expect((await app.payments(r.intent_id)).length).toBe(1);
  expect(await app.balance(ACCOUNTS.dana)).toBe(500_000_000 - 1_500_000);
});
