import { expect, type Page, test } from '@playwright/test';
import { code, decodeQrOnScreen, expectNoAxeViolations, openApp, shot } from './fixtures/harness.ts';

// Kiosk screens (1024×600), the same at 200 % zoom (512×300 CSS pixels), 4K, and reduced motion.

async function noHorizontalScroll(page: Page): Promise<void> {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
}

const sizes = [
  { name: 'kiosk-1024x600', width: 1024, height: 600, scale: 1 },
  { name: 'zoom-200', width: 512, height: 300, scale: 2 },
  { name: '4k', width: 3840, height: 2160, scale: 1 },
];

for (const s of sizes) {
  test(`binding and purchase fit at ${s.name}`, async ({ browser }) => {
    const context = await browser.newContext({
      viewport: { width: s.width, height: s.height },
      deviceScaleFactor: s.scale,
      reducedMotion: 'reduce',
    });
    const page = await context.newPage();
    await openApp(page, { query: '?view=bind', clock: true });
    await page.getByRole('button', { name: 'AlipayHK' }).click();
    await expect(page.getByTestId('countdown')).toHaveText('Code expires in 15:00');
    await expect(page.getByTestId('qr')).toBeVisible();
    await noHorizontalScroll(page);
    // Every control can be scrolled to and used.
    for (const b of await page.getByRole('button').all()) {
      await b.scrollIntoViewIfNeeded();
      await expect(b).toBeInViewport();
    }
    await page.getByTestId('qr').scrollIntoViewIfNeeded();
    expect(await decodeQrOnScreen(page)).toBe(code(1));
    await expectNoAxeViolations(page, s.name);
    await shot(page, 'en', `layout-${s.name}-bind-qr`);

    await page.goto('/?view=purchase&sku=gems-500&qty=2');
    await expect(page.getByTestId('buy')).toBeVisible();
    await noHorizontalScroll(page);
    await page.getByTestId('buy').scrollIntoViewIfNeeded();
    await expect(page.getByTestId('buy')).toBeInViewport();
    await shot(page, 'en', `layout-${s.name}-buy-quote`);
    await context.close();
  });
}

test('reduced motion stops the spinners', async ({ browser }) => {
  const context = await browser.newContext({ reducedMotion: 'reduce' });
  const page = await context.newPage();
  await openApp(page, { query: '?view=purchase&sku=gems-500&qty=2', hold: ['confirmPurchase'] });
  await page.getByTestId('buy').click();
  const animation = await page
    .locator('.spinner')
    .first()
    .evaluate((el) => getComputedStyle(el).animationName);
  expect(animation).toBe('none');
  await context.close();
});

test('studio theming goes through CSS variables', async ({ page }) => {
  await openApp(page, { query: '?view=bind' });
  const accent = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--stb-accent'));
  expect(accent.trim()).toMatch(/^#[0-9a-f]{6}$/i);
});
