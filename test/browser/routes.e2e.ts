import { expect, test } from '@playwright/test';
import { calls, openApp } from './fixtures/harness.ts';

// Main (and the embedding API) open screens with hash routes, and reuse the window: a new
// route must switch the screen without a reload.
test('a hash route from main opens the purchase dialog for that sku and quantity', async ({ page }) => {
  await openApp(page, { query: '#/purchase/gems-500/2' });
  await expect(page.getByTestId('app-root')).toHaveAttribute('data-view', 'purchase');
  await expect(page.getByTestId('buy')).toBeVisible();
  expect((await calls(page, 'quotePurchase')).map((c) => c.input)).toEqual([{ sku: 'gems-500', quantity: 2 }]);
});

test('a new hash route switches the screen in place, and a malformed one is ignored', async ({ page }) => {
  await openApp(page, { query: '#/bind' });
  await expect(page.getByTestId('app-root')).toHaveAttribute('data-view', 'bind');
  const navigations: string[] = [];
  page.on('framenavigated', (f) => navigations.push(f.url()));

  await page.evaluate(() => {
    location.hash = '#/purchase/gems-500/2';
  });
  await expect(page.getByTestId('app-root')).toHaveAttribute('data-view', 'purchase');
  await expect(page.getByTestId('buy')).toBeVisible();

  await page.evaluate(() => {
    location.hash = '#/purchase/..%2Fetc/2';
  });
  // A sku that is not a catalogue sku is never quoted: the dialog says no item was chosen.
  await expect(page.getByText('No item was chosen. Open the purchase from the game again.')).toBeVisible();
  await expect(page.getByTestId('buy')).toHaveCount(0);
  expect((await calls(page, 'quotePurchase')).map((c) => c.input)).toEqual([{ sku: 'gems-500', quantity: 2 }]);
  // Same-document navigations only: the page was never reloaded.
  expect(navigations.every((u) => u.includes('#'))).toBe(true);
});
