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

  // Each window records its presses with the browser's own input timestamps (epoch ms): the
  // scenario is five clicks a player makes within 300 ms, whenever the busy page gets to handle
  // them. Window A is pressed with the mouse (a pointerdown reaches even a button the first click
  // disabled); window B's button is clicked in its DOM.
  for (const [w, type] of [
    [a, 'pointerdown'],
    [b, 'click'],
  ] as const)
    await w.evaluate((type) => {
      const presses: number[] = [];
      (window as unknown as { presses: number[] }).presses = presses;
      window.addEventListener(type, (e) => presses.push(performance.timeOrigin + e.timeStamp), true);
    }, type);
  const box = await a.getByTestId('buy').boundingBox();
  if (!box) throw new Error('no Buy button');
  // The five clicks go to the browser back to back, as a player's do: Playwright's mouse waits
  // for the page to handle each click before it sends the next, so on a loaded machine its five
  // clicks spread over more than 300 ms while the first one's payment starts.
  const cdp = await a.context().newCDPSession(a);
  const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  await cdp.send('Input.dispatchMouseEvent', { type: 'mouseMoved', ...at });
  const mouse = (type: 'mousePressed' | 'mouseReleased') =>
    cdp.send('Input.dispatchMouseEvent', { type, ...at, button: 'left', buttons: type === 'mousePressed' ? 1 : 0, clickCount: 1 });
  const clicks = Array.from({ length: 5 }, () => [mouse('mousePressed'), mouse('mouseReleased')]).flat();
  // The second window clicks at the same moment. A DOM click, not an actionability-checked
  // one: once the first window's payment settles, the second window rightly swaps its Buy
  // button for the shared result, and a waiting click would never land.
  await Promise.all([...clicks, b.evaluate(() => (document.querySelector('[data-testid="buy"]') as HTMLElement | null)?.click())]);
  const pressesOf = (w: typeof a) => w.evaluate(() => (window as unknown as { presses: number[] }).presses);
  const pa = await pressesOf(a);
  expect(pa).toHaveLength(5);
  expect(Math.max(...pa) - Math.min(...pa)).toBeLessThan(300);
  // Window B's click landed on its Buy button, before the shared result replaced it.
  expect(await pressesOf(b)).toHaveLength(1);

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
