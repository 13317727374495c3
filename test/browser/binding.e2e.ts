import { expect, test } from '@playwright/test';
import { active, calls, code, decodeQrOnScreen, emit, everyLocale, expectKeyboardReach, openApp, qrShown, T0 } from './fixtures/harness.ts';

// The binding overlay: picker → QR (decodes to the bridge's code value) → countdown; the relay's
// renewals pushed by main, no call at expiry → "Get a new code"; decline/timeout; linked with the masked account.

test('the wallet picker offers only the wallets of the player’s region and currency', async ({ page }) => {
  const problems = await openApp(page, { query: '?view=bind' });
  await expect(page.getByRole('button', { name: 'AlipayHK' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'DANA' })).toHaveCount(0);
  await expectKeyboardReach(page, 'picker');
  await everyLocale(page, 'bind-picker', async (locale) => {
    if (locale === 'zh-HK') await expect(page.getByRole('heading', { level: 1 })).toHaveText('連結錢包');
    if (locale === 'id-ID') await expect(page.getByRole('heading', { level: 1 })).toHaveText('Hubungkan dompet');
  });
  expect(problems).toEqual({ foreign: [], csp: [], errors: [] });
});

test('an Indonesian player is offered DANA; no region shows every wallet', async ({ page }) => {
  await openApp(page, {
    query: '?view=bind',
    responses: { appInfo: { ok: true, value: { mode: 'window', version: '1', region: 'ID', currency: 'IDR' } } },
  });
  await expect(page.getByRole('button', { name: 'DANA' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'AlipayHK' })).toHaveCount(0);
});

test('the QR decodes to the code value, counts down, shows the relay’s renewals without asking, then the player asks for a new code', async ({ page }) => {
  const problems = await openApp(page, { query: '?view=bind', clock: true });
  await page.getByRole('button', { name: 'AlipayHK' }).click();
  await expect(page.getByRole('img', { name: /QR code to link AlipayHK/ })).toBeVisible();
  // The clicked wallet button is gone: focus moved to the dialog's heading (without a forced layout).
  await expect(page.getByRole('heading', { level: 1, name: 'Scan with AlipayHK' })).toBeFocused();
  expect(await calls(page, 'startBinding')).toEqual([{ name: 'startBinding', input: { wallet: 'ALIPAY_HK' } }]);

  // The pixels on screen carry exactly the bridge's code value.
  expect(await decodeQrOnScreen(page)).toBe(code(1));
  await expect(page.getByTestId('countdown')).toHaveText('Code expires in 15:00');
  await expect(page.getByText('Then confirm in your AlipayHK app.', { exact: false })).toBeVisible();
  await expect(page.getByRole('textbox', { name: 'Link for this code' })).toHaveValue(code(1));

  await page.getByRole('button', { name: 'Copy link' }).click();
  await expect(page.getByText('Link copied.')).toBeVisible();
  expect(await calls(page, 'copyBindingLink')).toHaveLength(1);

  await page.clock.fastForward(61_000);
  await expect(page.getByTestId('countdown')).toHaveText('Code expires in 13:59');
  await expectKeyboardReach(page, 'qr');
  await everyLocale(page, 'bind-qr', async (locale) => {
    if (locale === 'zh-HK') await expect(page.getByTestId('countdown')).toHaveText('二維碼將於 13:59 後失效');
    if (locale === 'id-ID') await expect(page.getByTestId('countdown')).toHaveText('Kode kedaluwarsa dalam 13:59');
  });

  // Expiry: the relay renews the code; the overlay waits for main's push and asks nothing.
  await page.clock.fastForward(14 * 60_000);
  await expect(page.getByTestId('countdown')).toHaveText('Getting a fresh code…');
  await page.clock.fastForward(5_000);
  await emit(page, 'bindingChanged', qrShown(2, 1, T0 + 30 * 60_000));
  await expect.poll(() => decodeQrOnScreen(page)).toBe(code(2));
  await page.clock.fastForward(15 * 60_000);
  await emit(page, 'bindingChanged', qrShown(3, 0, T0 + 45 * 60_000));
  await expect.poll(() => decodeQrOnScreen(page)).toBe(code(3));

  // The last code runs out with no renewal left: "Get a new code", and still no call.
  await page.clock.fastForward(15 * 60_000);
  const again = page.getByRole('button', { name: 'Get a new code' });
  await expect(again).toBeVisible();
  await expect(page.getByTestId('qr')).toHaveCount(0);
  await page.clock.fastForward(60_000);
  await emit(page, 'bindingChanged', { state: 'EXPIRED', wallet: 'ALIPAY_HK', maskedAccount: null, qr: null, error: 'QR_REFRESH_LIMIT' });
  await expect(again).toBeVisible();
  expect(await calls(page, 'refreshBindingCode')).toHaveLength(0);
  expect(await calls(page, 'startBinding')).toHaveLength(1);
  await expectKeyboardReach(page, 'refresh limit');
  await everyLocale(page, 'bind-refresh-limit');

  // The player asks: one call, a fresh code on screen.
  await again.click();
  await expect.poll(async () => (await calls(page, 'refreshBindingCode')).length).toBe(1);
  await expect.poll(() => decodeQrOnScreen(page)).toBe(code(4));
  expect(await calls(page, 'startBinding')).toHaveLength(1);
  expect(problems).toEqual({ foreign: [], csp: [], errors: [] });
});

test('decline or walk-away: main reports the code expired and the player gets a new one', async ({ page }) => {
  await openApp(page, { query: '?view=bind' });
  await page.getByRole('button', { name: 'AlipayHK' }).click();
  await expect(page.getByTestId('qr')).toBeVisible();
  await emit(page, 'bindingChanged', {
    state: 'EXPIRED',
    wallet: 'ALIPAY_HK',
    maskedAccount: null,
    qr: null,
    error: 'QR_EXPIRED',
  });
  await expect(page.getByRole('alert')).toHaveText('This code has expired. Get a new code to continue.');
  await expectKeyboardReach(page, 'expired');
  await everyLocale(page, 'bind-expired');

  await emit(page, 'bindingChanged', {
    state: 'FAILED',
    wallet: 'ALIPAY_HK',
    maskedAccount: null,
    qr: null,
    error: 'BINDING_FAILED',
  });
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Linking did not finish');
  await everyLocale(page, 'bind-failed');
  await page.getByRole('button', { name: 'Choose another wallet' }).click();
  await expect(page.getByRole('button', { name: 'AlipayHK' })).toBeVisible();
});

test('an expired link (refresh token ran out) says so and offers to link again', async ({ page }) => {
  await openApp(page, { query: '?view=bind' });
  await page.getByRole('button', { name: 'AlipayHK' }).click();
  await expect(page.getByTestId('qr')).toBeVisible();
  await emit(page, 'bindingChanged', {
    state: 'EXPIRED',
    wallet: 'ALIPAY_HK',
    maskedAccount: null,
    qr: null,
    error: 'BINDING_EXPIRED',
  });
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Link expired');
  await expect(page.getByRole('alert')).toHaveText('Your AlipayHK link has expired. Scan a new code to link it again.');
  await expect(page.getByRole('button', { name: 'Link again' })).toBeVisible();
  await expectKeyboardReach(page, 'lapsed');
  await everyLocale(page, 'bind-lapsed');
});

test('approved in the app, then linked with the masked account', async ({ page }) => {
  await openApp(page, { query: '?view=bind' });
  await page.getByRole('button', { name: 'AlipayHK' }).click();
  await expect(page.getByTestId('qr')).toBeVisible();
  await emit(page, 'bindingChanged', { ...active, state: 'AUTHORIZED', maskedAccount: null });
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Approved');
  await everyLocale(page, 'bind-authorized');

  await emit(page, 'bindingChanged', active);
  await expect(page.getByTestId('linked')).toHaveText('Linked: AlipayHK 852-****-8812');
  await expectKeyboardReach(page, 'linked');
  await everyLocale(page, 'bind-linked', async (locale) => {
    if (locale === 'zh-HK') await expect(page.getByTestId('linked')).toHaveText('已連結：AlipayHK 852-****-8812');
  });
  await page.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your wallet');
});

test('cancel withdraws the code and returns to the picker', async ({ page }) => {
  await openApp(page, { query: '?view=bind' });
  await page.getByRole('button', { name: 'AlipayHK' }).click();
  await expect(page.getByTestId('qr')).toBeVisible();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('button', { name: 'AlipayHK' })).toBeVisible();
  expect(await calls(page, 'cancelBinding')).toHaveLength(1);
});

test('a fresh code pushed by main replaces the one on screen', async ({ page }) => {
  await openApp(page, { query: '?view=bind', clock: true });
  await page.getByRole('button', { name: 'AlipayHK' }).click();
  expect(await decodeQrOnScreen(page)).toBe(code(1));
  await emit(page, 'bindingChanged', qrShown(7, 1, T0 + 20 * 60_000));
  await expect.poll(() => decodeQrOnScreen(page)).toBe(code(7));
  await expect(page.getByTestId('countdown')).toHaveText('Code expires in 20:00');
});

test('while the picker waits, the code view is drawn once unseen and unreachable, then removed (issue 17, #5)', async ({ page }) => {
  // Each time a rehearsal enters the page, what a player, a screen reader or a test could meet
  // of it is written down; and when it leaves.
  await page.addInitScript(() => {
    const seen: Record<string, unknown>[] = [];
    Object.defineProperty(window, '__rehearsals', { value: seen });
    new MutationObserver((records) => {
      for (const r of records) {
        for (const n of r.addedNodes) {
          if (!(n instanceof HTMLElement) || !n.classList.contains('rehearsal')) continue;
          const ids = [...n.querySelectorAll('[id]')].map((e) => e.id);
          const laidOut = new Promise<number>((resolve) => requestAnimationFrame(() => resolve(n.getBoundingClientRect().height)));
          const entry: Record<string, unknown> = {
            ariaHidden: n.getAttribute('aria-hidden'),
            inert: n.inert,
            visibility: getComputedStyle(n).visibility,
            testIds: n.querySelectorAll('[data-testid]').length,
            qrDrawn: (n.querySelector('svg path')?.getAttribute('d') ?? '').length > 100,
            idsElsewhere: ids.filter((id) => [...document.querySelectorAll(`[id="${CSS.escape(id)}"]`)].some((e) => !n.contains(e))),
            focusInside: n.contains(document.activeElement),
          };
          void laidOut.then((h) => {
            entry['height'] = h;
          });
          seen.push(entry);
        }
        for (const n of r.removedNodes) if (n instanceof HTMLElement && n.classList.contains('rehearsal')) seen.push({ removed: true });
      }
    }).observe(document, { subtree: true, childList: true });
  });
  const problems = await openApp(page, { query: '?view=bind' });
  const rehearsals = () => page.evaluate(() => (window as unknown as { __rehearsals: Record<string, unknown>[] }).__rehearsals);
  await expect
    .poll(rehearsals)
    .toEqual([
      { ariaHidden: 'true', inert: true, visibility: 'hidden', testIds: 0, qrDrawn: true, idsElsewhere: [], focusInside: false, height: 1 },
      { removed: true },
    ]);
  await expect(page.locator('.rehearsal')).toHaveCount(0);
  await expectKeyboardReach(page, 'picker');

  // Once per page: back on the picker after a code, nothing is drawn again.
  await page.getByRole('button', { name: 'AlipayHK' }).click();
  await expect(page.getByRole('img', { name: /QR code to link AlipayHK/ })).toBeVisible();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('button', { name: 'AlipayHK' })).toBeVisible();
  await page.evaluate(() => new Promise((r) => requestIdleCallback(r, { timeout: 2500 })));
  await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
  expect(await rehearsals()).toHaveLength(2);
  expect(problems).toEqual({ foreign: [], csp: [], errors: [] });
});
