import { ACCOUNTS, expect, test } from './fixtures.ts';

/*
 * S6 (id-ID): the PC's network drops right after Buy (the proxy in front of the relay is cut
 * while the relay is still talking to Antom); separately, the relay's call to Antom times out
 * (sandbox fault `timeout`, the relay's 2 s Antom timeout). Both show "Checking your
 * payment…" and then the final result, which matches the ledger and the wallet.
 */
test('S6 network drop after Buy, and a relay→sandbox timeout: "Checking payment…", then a result matching the ledger', async ({ launch }) => {
  const app = await launch({ scenario: 's06-network', locale: 'id-ID' });
  const binder = await app.open('?view=bind');
  await app.link(binder, 'DANA', ACCOUNTS.dana);
  await binder.close();
  const price = { currency: 'IDR', minor: 1_500_000 } as const;

  // 1. The cable is pulled while the relay waits on a slow Antom. The delay is long enough that
  // the cut always lands while the confirm is in flight, even on a loaded machine.
  await app.stack.admin('POST', '/faults', { endpoint: 'pay', mode: 'delay', count: 1, delayMs: 6_000 });
  let page = await app.open('?view=purchase&sku=gems-100&qty=1');
  await expect(page.getByTestId('total')).toHaveText(app.money(price));
  await page.getByTestId('buy').click();
  app.proxy.cut(); // right after Buy: the confirm is on its way to (or waiting on) the relay
  const result = () => page.getByTestId('result');
  await expect(result()).toHaveAttribute('data-result', 'checking', { timeout: 15_000 });
  await expect(result().getByRole('heading')).toHaveText(app.t('buyCheckingTitle'));
  await expect(page.getByTestId('buy')).toHaveCount(0);
  await app.shot(page, 'checking-offline');
  app.proxy.restore();
  await expect(result()).toHaveAttribute('data-result', 'succeeded', { timeout: 20_000 });
  await app.shot(page, 'succeeded-after-reconnect');
  let ledger = await app.ledger();
  expect(ledger.map((r) => r.state)).toEqual(['SUCCEEDED']);
  expect(await app.balance(ACCOUNTS.dana)).toBe(500_000_000 - 1_500_000);

  // 2. The relay's call to Antom times out: Antom processed it, nobody heard the answer.
  await page.close();
  await app.stack.admin('POST', '/faults', { endpoint: 'pay', mode: 'timeout', count: 1, delayMs: 5_000 });
  page = await app.open('?view=purchase&sku=gems-100&qty=1');
  await page.getByTestId('buy').click();
  // The relay gives up on Antom after 2 s and inquires at once, inside the PC's own request
  // window, so the player sees "Paying…" and then the final result (never a second Buy).
  await expect(result()).toHaveAttribute('data-result', 'succeeded', { timeout: 20_000 });
  await app.shot(page, 'succeeded-after-inquiry');

  ledger = await app.ledger();
  expect(ledger.map((r) => r.state)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  for (const r of ledger) expect((await app.payments(r.intent_id)).length).toBe(1);
  expect(await app.balance(ACCOUNTS.dana)).toBe(500_000_000 - 2 * 1_500_000);
});
