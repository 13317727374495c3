import { expect, test } from '@playwright/test';
import { active, calls, emit, everyLocale, expectKeyboardReach, openApp, settings } from './fixtures/harness.ts';

// Manage (linked wallet, unlink with confirmation) and the kiosk profile (attract screen,
// "Still there?", reset that forgets the customer).

test('manage: the linked wallet, unlink after confirmation', async ({ page }) => {
  const problems = await openApp(page, { responses: { bindingStatus: { ok: true, value: active } } });
  await expect(page.getByTestId('linked')).toHaveText('Linked: AlipayHK 852-****-8812');
  await expectKeyboardReach(page, 'manage');
  await everyLocale(page, 'manage-linked');

  await page.getByRole('button', { name: 'Unlink AlipayHK' }).click();
  const confirm = page.getByRole('alertdialog', { name: 'Unlink AlipayHK?' });
  await expect(confirm).toBeVisible();
  await expect(page.getByRole('button', { name: 'Keep linked' })).toBeFocused();
  await expectKeyboardReach(page, 'unlink confirmation');
  await everyLocale(page, 'manage-unlink-confirm');
  await page.keyboard.press('Escape');
  await expect(confirm).toHaveCount(0);
  expect(await calls(page, 'unbind')).toHaveLength(0);

  await page.getByRole('button', { name: 'Unlink AlipayHK' }).click();
  await confirm.getByRole('button', { name: 'Unlink', exact: true }).click();
  await expect(page.getByText('AlipayHK is unlinked.')).toBeVisible();
  expect(await calls(page, 'unbind')).toHaveLength(1);
  await everyLocale(page, 'manage-unlinked');
  await page.getByRole('button', { name: 'Link a wallet' }).click();
  await expect(page.getByRole('button', { name: 'AlipayHK' })).toBeVisible();
  expect(problems).toEqual({ foreign: [], csp: [], errors: [] });
});

test('kiosk: attract screen, start, "Still there?", reset forgets the customer', async ({ page }) => {
  await openApp(page, {
    responses: { appInfo: { ok: true, value: { mode: 'kiosk', version: '1', region: null, currency: null } } },
  });
  await expect(page.getByTestId('attract')).toContainText('AlipayHK or DANA');
  await expectKeyboardReach(page, 'attract');
  await everyLocale(page, 'kiosk-attract', async (locale) => {
    if (locale === 'zh-HK') await expect(page.getByTestId('attract')).toContainText('AlipayHK或DANA');
  });
  await page.getByRole('button', { name: 'Start' }).click();
  await page.getByRole('button', { name: 'DANA' }).click();
  await expect(page.getByTestId('qr')).toBeVisible();

  await emit(page, 'kioskChanged', { phase: 'still-there', secondsLeft: 25 });
  const prompt = page.getByRole('alertdialog');
  await expect(prompt).toHaveAccessibleName('Still there?');
  await expect(prompt).toContainText('25 seconds');
  await expect(page.getByRole('button', { name: 'I am still here' })).toBeFocused();
  await expectKeyboardReach(page, 'still there');
  await everyLocale(page, 'kiosk-still-there', async (locale) => {
    if (locale === 'id-ID') await expect(prompt).toContainText('25 detik');
    if (locale === 'zh-HK') await expect(prompt).toContainText('25 秒');
  });
  await page.getByRole('button', { name: 'I am still here' }).click();
  await expect(prompt).toHaveCount(0);
  expect(await calls(page, 'kioskStillHere')).toHaveLength(1);
  await expect(page.getByTestId('qr')).toBeVisible();

  await emit(page, 'kioskChanged', { phase: 'still-there', secondsLeft: 3 });
  await page.getByRole('button', { name: 'End session' }).click();
  expect(await calls(page, 'kioskEndSession')).toHaveLength(1);
  await expect(page.getByRole('status')).toHaveText('Clearing this session…');
  await everyLocale(page, 'kiosk-resetting');
  await emit(page, 'kioskChanged', { phase: 'attract', secondsLeft: null });
  await expect(page.getByTestId('attract')).toBeVisible();
  await page.getByRole('button', { name: 'Start' }).click();
  // Nothing of the last customer is left: the picker, not their QR.
  await expect(page.getByRole('button', { name: 'DANA' })).toBeVisible();
  await expect(page.getByTestId('qr')).toHaveCount(0);
});

test('a settings change that keeps the language leaves <html lang> unwritten (no document restyle)', async ({ page }) => {
  await openApp(page, { query: '?view=bind' });
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await page.evaluate(() => {
    const w = window as unknown as { __langWrites: number };
    w.__langWrites = 0;
    new MutationObserver((records) => {
      w.__langWrites += records.length;
    }).observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
  });
  const writes = () => page.evaluate(() => (window as unknown as { __langWrites: number }).__langWrites);

  await emit(page, 'settingsChanged', { ...settings('en'), lastWallet: 'ALIPAY_HK' });
  await emit(page, 'settingsChanged', settings('zh-HK'));
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-HK');

  // MutationObserver records every write of the attribute, an unchanged value too.
  expect(await writes()).toBe(1);
});

test('the language switch works by keyboard and is saved through the bridge', async ({ page }) => {
  await openApp(page, { query: '?view=bind' });
  const select = page.getByRole('combobox', { name: 'Language' });
  await select.focus();
  await select.selectOption('zh-HK');
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-HK');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('連結錢包');
  expect(await calls(page, 'setSettings')).toEqual([{ name: 'setSettings', input: { locale: 'zh-HK' } }]);
});
