import { describe, expect, it } from 'vitest';
import { checkCancelWindow, checkDebitLimits, checkRefundRules, type DebitInput, type RefundInput } from '../src/api/antom-rules.ts';

// Every figure below is typed from Antom's reference ("Amounts", "Scan to Bind product facts",
// "cancel", "refund"), in minor units (HKD and IDR have two decimals at Antom), not read from
// the module under test, so a wrong constant there fails here.
const DAY = 86_400_000;
const NOW = Date.parse('2026-06-15T04:00:00Z');

const hk = (amount: number, history: DebitInput['history'] = []): DebitInput => ({ wallet: 'ALIPAY_HK', currency: 'HKD', amount, now: NOW, history });
const dana = (amount: number, tier: DebitInput['tier'], history: DebitInput['history'] = []): DebitInput => ({
  wallet: 'DANA',
  tier,
  currency: 'IDR',
  amount,
  now: NOW,
  history,
});
const code = (v: { ok: true } | { ok: false; code: string }) => (v.ok ? 'OK' : v.code);

describe('per-wallet payment limits', () => {
  it('AlipayHK: at least HK$0.01, at most HK$50,000 per transaction', () => {
    expect(code(checkDebitLimits(hk(0)))).toBe('PARAM_ILLEGAL');
    expect(code(checkDebitLimits(hk(1)))).toBe('OK');
    expect(code(checkDebitLimits(hk(5_000_000)))).toBe('OK');
    expect(code(checkDebitLimits(hk(5_000_001)))).toBe('PAYMENT_AMOUNT_EXCEED_LIMIT');
  });

  it('AlipayHK: at most HK$200,000 per year, counted over any calendar reading of the year', () => {
    const paid = (daysAgo: number, amount: number) => ({ amount, paidAt: NOW - daysAgo * DAY });
    const fullYear = [paid(300, 5_000_000), paid(200, 5_000_000), paid(100, 5_000_000), paid(1, 5_000_000)];
    expect(code(checkDebitLimits(hk(1, fullYear)))).toBe('USER_AMOUNT_EXCEED_LIMIT');
    expect(code(checkDebitLimits(hk(1, fullYear.slice(1))))).toBe('OK');
    // A payment 365 days ago may still be in "the year" (a leap year, or the last twelve months).
    expect(code(checkDebitLimits(hk(1, [paid(365.5, 5_000_000), ...fullYear.slice(1)])))).toBe('USER_AMOUNT_EXCEED_LIMIT');
    expect(code(checkDebitLimits(hk(1, [paid(366, 5_000_000), ...fullYear.slice(1)])))).toBe('OK');
  });

  it('AlipayHK pays only in HKD', () => {
    expect(code(checkDebitLimits({ ...hk(100), currency: 'IDR' }))).toBe('CURRENCY_NOT_SUPPORT');
  });

  it('DANA: at least Rp 300, at most Rp 10,000,000 per transaction', () => {
    expect(code(checkDebitLimits(dana(29_999, 'PREMIUM')))).toBe('PARAM_ILLEGAL');
    expect(code(checkDebitLimits(dana(30_000, 'PREMIUM')))).toBe('OK');
    expect(code(checkDebitLimits(dana(1_000_000_000, 'PREMIUM')))).toBe('OK');
    expect(code(checkDebitLimits(dana(1_000_000_001, 'PREMIUM')))).toBe('PAYMENT_AMOUNT_EXCEED_LIMIT');
    expect(code(checkDebitLimits({ ...dana(30_000, 'PREMIUM'), currency: 'HKD' }))).toBe('CURRENCY_NOT_SUPPORT');
  });

  it('DANA unverified: Rp 2,000,000 a day and Rp 20,000,000 a month; an account without a type counts as unverified', () => {
    const earlierToday = [{ amount: 150_000_000, paidAt: NOW - 3_600_000 }];
    expect(code(checkDebitLimits(dana(50_000_000, 'UNVERIFIED', earlierToday)))).toBe('OK');
    expect(code(checkDebitLimits(dana(50_000_001, 'UNVERIFIED', earlierToday)))).toBe('USER_AMOUNT_EXCEED_LIMIT');
    expect(code(checkDebitLimits(dana(50_000_001, undefined, earlierToday)))).toBe('USER_AMOUNT_EXCEED_LIMIT');
    // Ten days of Rp 1,950,000: the eleventh day's Rp 100,000 would pass the day but not the month.
    const tenDays = Array.from({ length: 10 }, (_, i) => ({ amount: 195_000_000, paidAt: NOW - (i + 1) * DAY - 1 }));
    expect(code(checkDebitLimits(dana(50_000_000, 'UNVERIFIED', tenDays)))).toBe('OK');
    expect(code(checkDebitLimits(dana(50_000_001, 'UNVERIFIED', tenDays)))).toBe('USER_AMOUNT_EXCEED_LIMIT');
  });

  it('DANA Premium: Rp 20,000,000 a day and Rp 40,000,000 a month', () => {
    const today = [
      { amount: 1_000_000_000, paidAt: NOW - 60_000 },
      { amount: 900_000_000, paidAt: NOW - 120_000 },
    ];
    expect(code(checkDebitLimits(dana(100_000_000, 'PREMIUM', today)))).toBe('OK');
    expect(code(checkDebitLimits(dana(100_000_001, 'PREMIUM', today)))).toBe('USER_AMOUNT_EXCEED_LIMIT');
    const month = [
      { amount: 1_000_000_000, paidAt: NOW - 2 * DAY },
      { amount: 1_000_000_000, paidAt: NOW - 3 * DAY },
      { amount: 1_000_000_000, paidAt: NOW - 20 * DAY },
      { amount: 900_000_000, paidAt: NOW - 30 * DAY },
    ];
    expect(code(checkDebitLimits(dana(100_000_000, 'PREMIUM', month)))).toBe('OK');
    expect(code(checkDebitLimits(dana(100_000_001, 'PREMIUM', month)))).toBe('USER_AMOUNT_EXCEED_LIMIT');
  });

  it('a day is any 24 hours, so a calendar midnight does not reset the cap', () => {
    // 23:30 and 00:30 in Jakarta (UTC+7): different calendar days, the same 24 hours.
    const lateYesterday = [{ amount: 190_000_000, paidAt: Date.parse('2026-06-14T16:30:00Z') }];
    const at = Date.parse('2026-06-14T17:30:00Z');
    expect(code(checkDebitLimits({ ...dana(20_000_000, 'UNVERIFIED', lateYesterday), now: at }))).toBe('USER_AMOUNT_EXCEED_LIMIT');
    expect(code(checkDebitLimits({ ...dana(20_000_000, 'UNVERIFIED', lateYesterday), now: at + DAY }))).toBe('OK');
  });
});

describe('the cancel window', () => {
  const ordered = Date.parse('2026-05-10T15:59:00Z'); // 23:59 on 10 May in Hong Kong (UTC+8)

  it('AlipayHK: until 00:15 UTC+8 on the day after the order, not a moment later', () => {
    expect(code(checkCancelWindow('ALIPAY_HK', ordered, ordered))).toBe('OK');
    expect(code(checkCancelWindow('ALIPAY_HK', ordered, Date.parse('2026-05-10T16:14:59.999Z')))).toBe('OK');
    expect(code(checkCancelWindow('ALIPAY_HK', ordered, Date.parse('2026-05-10T16:15:00Z')))).toBe('CANCEL_WINDOW_EXCEED');
  });

  it('AlipayHK: T is the Hong Kong date, not the UTC date', () => {
    const earlyHk = Date.parse('2026-05-10T16:30:00Z'); // 00:30 on 11 May in Hong Kong
    expect(code(checkCancelWindow('ALIPAY_HK', earlyHk, Date.parse('2026-05-11T16:14:00Z')))).toBe('OK');
    expect(code(checkCancelWindow('ALIPAY_HK', earlyHk, Date.parse('2026-05-11T16:15:00Z')))).toBe('CANCEL_WINDOW_EXCEED');
  });

  it('DANA: never, not even at once', () => {
    expect(code(checkCancelWindow('DANA', ordered, ordered))).toBe('CANCEL_WINDOW_EXCEED');
  });
});

describe('the refund period and sum', () => {
  const base: RefundInput = { wallet: 'ALIPAY_HK', currency: 'HKD', paid: 10_000, orderedAt: NOW, alreadyRefunded: 0, requested: 4_000, now: NOW + DAY };

  it('several partial refunds while their total stays within what was paid', () => {
    expect(code(checkRefundRules(base))).toBe('OK');
    expect(code(checkRefundRules({ ...base, alreadyRefunded: 4_000, requested: 6_000 }))).toBe('OK');
    expect(code(checkRefundRules({ ...base, alreadyRefunded: 4_000, requested: 6_001 }))).toBe('REFUND_AMOUNT_EXCEED');
    expect(code(checkRefundRules({ ...base, alreadyRefunded: 10_000, requested: 1 }))).toBe('REFUND_AMOUNT_EXCEED');
  });

  it('within 365 days of the order; the 365th day is already outside', () => {
    expect(code(checkRefundRules({ ...base, now: NOW + 365 * DAY - 1 }))).toBe('OK');
    expect(code(checkRefundRules({ ...base, now: NOW + 365 * DAY }))).toBe('REFUND_WINDOW_EXCEED');
    expect(code(checkRefundRules({ ...base, wallet: 'DANA', currency: 'IDR', paid: 100_000, requested: 30_000, now: NOW + 365 * DAY }))).toBe(
      'REFUND_WINDOW_EXCEED',
    );
  });

  it('at least the wallet minimum: HK$0.01, Rp 300', () => {
    expect(code(checkRefundRules({ ...base, requested: 0 }))).toBe('PARAM_ILLEGAL');
    expect(code(checkRefundRules({ ...base, requested: 1 }))).toBe('OK');
    const d: RefundInput = { ...base, wallet: 'DANA', currency: 'IDR', paid: 100_000 };
    expect(code(checkRefundRules({ ...d, requested: 29_999 }))).toBe('PARAM_ILLEGAL');
    expect(code(checkRefundRules({ ...d, requested: 30_000 }))).toBe('OK');
    // What is left after Rp 800 of Rp 1,000 is below the minimum: it cannot be refunded.
    expect(code(checkRefundRules({ ...d, alreadyRefunded: 80_000, requested: 20_000 }))).toBe('PARAM_ILLEGAL');
  });

  it('in the currency of the payment', () => {
    expect(code(checkRefundRules({ ...base, currency: 'IDR' }))).toBe('CURRENCY_NOT_SUPPORT');
  });
});
