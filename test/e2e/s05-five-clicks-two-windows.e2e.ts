import { ACCOUNTS, expect, test } from './fixtures.ts';

/*
 * S5 (zh-HK): Buy clicked five times within 300 ms in one window while a second window of
 * the same player buys the same item: one debit, one fulfilment.
 */
test('S5 five clicks within 300 ms and the same purchase from two windows: one debit, one fulfilment', async ({ launch }) => {
  const app = await launch({ scenario: 's05-double-buy', locale: 'zh-HK' });
  const binder = await app.open('?view=bind');
  await app.link(binder, 'AlipayHK', ACCOUNTS.hk);
  await binder.close();

  const a = await app.open('?view=purchase&sku=gems-100&qty=1');
  const b = await app.open('?view=purchase&sku=gems-100&qty=1');
  for (const w of [a, b]) await expect(w.getByTestId('total')).toHaveText(app.money({ currency: 'HKD', minor: 1200 }));
  await app.shot(a, 'purchase-dialog');

  const box = await a.getByTestId('buy').boundingBox();
  if (!box) throw new Error('no Buy button');
  const started = Date.now();
  await Promise.all([
    (async () => {
      for (let i = 0; i < 5; i++) await a.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    })(),
    // The second window clicks at the same moment. A DOM click, not an actionability-checked
    // one: once the first window's payment settles, the second window rightly swaps its Buy
    // button for the shared result, and a waiting click would never land.
    b.evaluate(() => (document.querySelector('[data-testid="buy"]') as HTMLElement | null)?.click()),
  ]);
  expect(Date.now() - started).toBeLessThan(300);

  for (const w of [a, b]) await expect(w.getByTestId('result')).toHaveAttribute('data-result', 'succeeded', { timeout: 15_000 });
  await app.shot(a, 'succeeded');
  await app.shot(b, 'succeeded-second-window');

  const ledger = await app.ledger();
  expect(ledger).toHaveLength(1);
  expect(ledger[0]).toMatchObject({ state: 'SUCCEEDED', amount_minor: 1200, currency: 'HKD' });
  expect(await app.payments(ledger[0]?.intent_id as string)).toHaveLength(1);
  expect(await app.balance(ACCOUNTS.hk)).toBe(1_000_000 - 1200);
  const fulfilments = await app.fulfilments(ledger[0]?.intent_id as string);
  // One fulfilment: one outbox row and one delivery to the game server.
  expect(fulfilments).toBe(1);
  await expect.poll(() => app.webhook.deliveries, { timeout: 10_000 }).toEqual([ledger[0]?.intent_id]);
});
