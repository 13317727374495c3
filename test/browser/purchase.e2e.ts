import type { ErrorCode } from '@scan-to-bind/shared/domain';
import { expect, type Page, test } from '@playwright/test';
import { calls, emit, everyLocale, expectKeyboardReach, INTENT, openApp, purchase, quoteId, release } from './fixtures/harness.ts';

// The purchase dialog: the quote in the player's language and currency, one Buy that locks on
// the first click, and every result.

const BUY = '?view=purchase&sku=gems-500&qty=2';

async function openQuote(page: Page, opts: Parameters<typeof openApp>[1] = {}) {
  const problems = await openApp(page, { query: BUY, ...opts });
  await expect(page.getByTestId('buy')).toBeVisible();
  return problems;
}

test('the quote shows item, quantity, price per locale and the linked wallet', async ({ page }) => {
  const problems = await openQuote(page);
  expect(await calls(page, 'quotePurchase')).toEqual([{ name: 'quotePurchase', input: { sku: 'gems-500', quantity: 2 } }]);
  await expect(page.getByText('500 Gems')).toBeVisible();
  await expect(page.getByTestId('total')).toHaveText('HK$12.00');
  await expect(page.getByText('AlipayHK 852-****-8812')).toBeVisible();
  await expectKeyboardReach(page, 'quote');
  await everyLocale(page, 'buy-quote', async (locale) => {
    if (locale === 'zh-HK') await expect(page.getByTestId('buy')).toHaveText('購買');
    if (locale === 'id-ID') await expect(page.getByTestId('total')).toHaveText(/^HK\$\s?12,00$/);
  });
  expect(problems).toEqual({ foreign: [], csp: [], errors: [] });
});

test('IDR is shown without decimals', async ({ page }) => {
  await openQuote(page, { responses: { quotePurchase: { ok: true, value: quoteId } } });
  await expect(page.getByTestId('total')).toHaveText('IDR 15,000');
  await everyLocale(page, 'buy-quote-idr', async (locale) => {
    if (locale === 'id-ID') await expect(page.getByTestId('total')).toHaveText(/^Rp\s15\.000$/);
  });
});

test('a second Buy click sends nothing; "Paying…" shows at once', async ({ page }) => {
  await openQuote(page, { hold: ['confirmPurchase'] });
  const buy = page.getByTestId('buy');
  await buy.dblclick();
  await expect(buy).toHaveText('Paying…');
  await expect(buy).toHaveAttribute('aria-disabled', 'true');
  // aria-disabled keeps the focus on the button; Playwright would wait for "enabled", so force.
  await buy.click({ force: true });
  await buy.press('Enter');
  await buy.press('Space');
  expect(await calls(page, 'confirmPurchase')).toEqual([{ name: 'confirmPurchase', input: { purchaseIntentId: INTENT } }]);
  await expectKeyboardReach(page, 'paying');
  await everyLocale(page, 'buy-paying');
  await release(page, 'confirmPurchase');
  await expect(page.getByTestId('result')).toHaveAttribute('data-result', 'succeeded');
  // Focus follows the result for screen readers and the keyboard (moved without a forced layout).
  await expect(page.getByRole('heading', { level: 2, name: 'Payment complete' })).toBeFocused();
  expect(await calls(page, 'confirmPurchase')).toHaveLength(1);
  await expectKeyboardReach(page, 'succeeded');
  await everyLocale(page, 'buy-succeeded');
});

test('checking: an unknown result never offers a second charge; the final result arrives by itself', async ({ page }) => {
  await openQuote(page, { responses: { confirmPurchase: { ok: true, value: purchase('PROCESSING') } } });
  await page.getByTestId('buy').click();
  await expect(page.getByTestId('result')).toHaveAttribute('data-result', 'checking');
  await expect(page.getByTestId('buy')).toHaveCount(0);
  await expect(page.getByText('Checking your payment… You will not be charged twice.')).toBeVisible();
  await expectKeyboardReach(page, 'checking');
  await everyLocale(page, 'buy-checking');
  await page.getByRole('button', { name: 'Check again' }).click();
  expect(await calls(page, 'purchaseStatus')).toHaveLength(1);
  await emit(page, 'purchaseChanged', purchase('SUCCEEDED'));
  await expect(page.getByTestId('result')).toHaveAttribute('data-result', 'succeeded');
  expect(await calls(page, 'confirmPurchase')).toHaveLength(1);
});

const failures: { code: ErrorCode; kind: string; text: RegExp; state: string; action?: string }[] = [
  {
    code: 'INSUFFICIENT_BALANCE',
    kind: 'balance',
    text: /Top up in the AlipayHK app/,
    state: 'buy-insufficient-balance',
    action: 'Try again',
  },
  { code: 'ABOVE_YEARLY', kind: 'limit', text: /HK\$200,000\.00 per year/, state: 'buy-limit-yearly' },
  { code: 'SPENDING_CAP_DAILY', kind: 'limit', text: /spending limit for today/, state: 'buy-limit-spending-cap' },
  { code: 'BINDING_REVOKED', kind: 'unlinked', text: /no longer linked/, state: 'buy-unlinked', action: 'Link again' },
];

for (const f of failures) {
  test(`failed with ${f.code}: says what happened and what to do`, async ({ page }) => {
    await openQuote(page, { responses: { confirmPurchase: { ok: true, value: purchase('FAILED', f.code) } } });
    await page.getByTestId('buy').click();
    await expect(page.getByTestId('result')).toHaveAttribute('data-result', f.kind);
    await expect(page.getByRole('alert')).toHaveText(f.text);
    if (f.action) await expect(page.getByRole('button', { name: f.action })).toBeVisible();
    else await expect(page.getByRole('button', { name: 'Try again' })).toHaveCount(0);
    await expectKeyboardReach(page, f.state);
    await everyLocale(page, f.state);
  });
}

test('keychain unavailable: explained, and retrying re-sends the same intent', async ({ page }) => {
  await openQuote(page, {
    responses: {
      confirmPurchase: [
        { ok: false, code: 'KEYCHAIN_UNAVAILABLE' },
        { ok: true, value: purchase('SUCCEEDED') },
      ],
    },
  });
  await page.getByTestId('buy').click();
  await expect(page.getByTestId('result')).toHaveAttribute('data-result', 'keychain');
  await expect(page.getByRole('alert')).toHaveText(/keychain is not available/);
  await expectKeyboardReach(page, 'keychain');
  await everyLocale(page, 'buy-keychain');
  await page.getByRole('button', { name: 'Try again' }).click();
  await expect(page.getByTestId('result')).toHaveAttribute('data-result', 'succeeded');
  const sent = await calls(page, 'confirmPurchase');
  expect(sent.map((c) => c.input)).toEqual([{ purchaseIntentId: INTENT }, { purchaseIntentId: INTENT }]);
});

test('a limit already reached is shown before Buy, and Buy sends nothing', async ({ page }) => {
  await openQuote(page, {
    responses: {
      quotePurchase: { ok: true, value: { ...quoteId, blockedBy: 'ABOVE_DAILY' } },
    },
  });
  await expect(page.getByRole('alert')).toHaveText(/DANA limit of IDR\s?20,000,000 per day/);
  await page.getByTestId('buy').click({ force: true });
  expect(await calls(page, 'confirmPurchase')).toHaveLength(0);
  await everyLocale(page, 'buy-blocked', async (locale) => {
    if (locale === 'id-ID') await expect(page.getByRole('alert')).toHaveText(/Rp\s20\.000\.000/);
  });
});

test('no linked wallet: the quote is refused and the player is sent to link', async ({ page }) => {
  await openApp(page, { query: BUY, responses: { quotePurchase: { ok: false, code: 'BINDING_NOT_FOUND' } } });
  await expect(page.getByTestId('result')).toHaveAttribute('data-result', 'unlinked');
  await page.getByRole('button', { name: 'Link again' }).click();
  await expect(page.getByRole('button', { name: 'AlipayHK' })).toBeVisible();
});

test('payments left unresolved before a restart are listed and follow their updates', async ({ page }) => {
  const old = { ...purchase('PROCESSING'), purchaseIntentId: '7d1c2a9e-5b3f-4c8d-9e0a-1b2c3d4e5f60', sku: 'coins-100' };
  await openQuote(page, { responses: { pendingPurchases: { ok: true, value: [old] } } });
  const row = page.getByRole('listitem').filter({ hasText: 'coins-100' });
  await expect(row).toContainText('Checking…');
  await everyLocale(page, 'buy-pending-list');
  await emit(page, 'purchaseChanged', { ...old, state: 'SUCCEEDED' });
  await expect(row).toContainText('Paid');
});
