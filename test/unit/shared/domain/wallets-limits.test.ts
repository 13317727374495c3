import { describe, expect, it } from 'vitest';
import { canCancel, checkRefund, checkWalletLimits, walletLocalDate, walletWindow } from '../../../../shared/domain/limits.ts';
import { money } from '../../../../shared/domain/money.ts';
import { isWalletId, WALLETS, walletInfo, walletsFor } from '../../../../shared/domain/wallets.ts';

const HKD = (minor: number) => money(minor, 'HKD');
const IDR = (minor: number) => money(minor, 'IDR');

describe('wallet registry', () => {
  it('describes AlipayHK and DANA as Antom and the product define them', () => {
    expect(WALLETS.ALIPAY_HK).toMatchObject({ country: 'HK', currency: 'HKD', refundWindowDays: 365, partialRefund: true });
    expect(WALLETS.ALIPAY_HK.caps).toEqual({ minPerTransaction: 1, maxPerTransaction: 5_000_000, maxPerYear: 20_000_000 });
    expect(WALLETS.DANA).toMatchObject({ country: 'ID', currency: 'IDR', refundWindowDays: 365, partialRefund: true });
    expect(WALLETS.DANA.caps).toEqual({ minPerTransaction: 30_000, maxPerTransaction: 1_000_000_000, maxPerDay: 2_000_000_000 });
    expect(WALLETS.DANA.cancel).toEqual({ kind: 'never' });
  });

  it('filters by region and currency', () => {
    expect(walletsFor({ country: 'HK' }).map((w) => w.id)).toEqual(['ALIPAY_HK']);
    expect(walletsFor({ currency: 'IDR' }).map((w) => w.id)).toEqual(['DANA']);
    expect(walletsFor({ country: 'HK', currency: 'IDR' })).toEqual([]);
    expect(walletsFor().map((w) => w.id)).toEqual(['ALIPAY_HK', 'DANA']);
  });

  it('narrows untrusted ids and refuses unknown ones', () => {
    expect(isWalletId('DANA')).toBe(true);
    expect(isWalletId('ALIPAY_CN')).toBe(false);
    expect(isWalletId('toString')).toBe(false);
    expect(() => walletInfo('GCASH' as 'DANA')).toThrow(RangeError);
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(WALLETS)).toBe(true);
    expect(Object.isFrozen(WALLETS.DANA.caps)).toBe(true);
  });
});

describe('wallet limits at every bound, one minor unit below and above', () => {
  const none = { today: HKD(0), thisYear: HKD(0) };
  const noneIdr = { today: IDR(0), thisYear: IDR(0) };

  it('AlipayHK minimum 0.01 HKD', () => {
    expect(checkWalletLimits('ALIPAY_HK', HKD(0), none)).toEqual({ ok: false, reason: 'BELOW_MIN', limit: HKD(1) });
    expect(checkWalletLimits('ALIPAY_HK', HKD(1), none)).toEqual({ ok: true });
    expect(checkWalletLimits('ALIPAY_HK', HKD(2), none)).toEqual({ ok: true });
  });

  it('AlipayHK 50,000 HKD per transaction', () => {
    expect(checkWalletLimits('ALIPAY_HK', HKD(4_999_999), none)).toEqual({ ok: true });
    expect(checkWalletLimits('ALIPAY_HK', HKD(5_000_000), none)).toEqual({ ok: true });
    expect(checkWalletLimits('ALIPAY_HK', HKD(5_000_001), none)).toEqual({
      ok: false,
      reason: 'ABOVE_PER_TRANSACTION',
      limit: HKD(5_000_000),
    });
  });

  it('AlipayHK 200,000 HKD per year, counting what was already paid', () => {
    const spent = (minor: number) => ({ today: HKD(0), thisYear: HKD(minor) });
    expect(checkWalletLimits('ALIPAY_HK', HKD(100), spent(20_000_000 - 101))).toEqual({ ok: true });
    expect(checkWalletLimits('ALIPAY_HK', HKD(100), spent(20_000_000 - 100))).toEqual({ ok: true });
    expect(checkWalletLimits('ALIPAY_HK', HKD(100), spent(20_000_000 - 99))).toEqual({
      ok: false,
      reason: 'ABOVE_YEARLY',
      limit: HKD(20_000_000),
    });
  });

  it('AlipayHK has no daily cap', () => {
    expect(checkWalletLimits('ALIPAY_HK', HKD(5_000_000), { today: HKD(15_000_000), thisYear: HKD(15_000_000) })).toEqual({ ok: true });
  });

  it('DANA minimum 300 IDR', () => {
    expect(checkWalletLimits('DANA', IDR(29_999), noneIdr)).toEqual({ ok: false, reason: 'BELOW_MIN', limit: IDR(30_000) });
    expect(checkWalletLimits('DANA', IDR(30_000), noneIdr)).toEqual({ ok: true });
    expect(checkWalletLimits('DANA', IDR(30_001), noneIdr)).toEqual({ ok: true });
  });

  it('DANA 10,000,000 IDR per transaction', () => {
    expect(checkWalletLimits('DANA', IDR(999_999_999), noneIdr)).toEqual({ ok: true });
    expect(checkWalletLimits('DANA', IDR(1_000_000_000), noneIdr)).toEqual({ ok: true });
    expect(checkWalletLimits('DANA', IDR(1_000_000_001), noneIdr)).toEqual({
      ok: false,
      reason: 'ABOVE_PER_TRANSACTION',
      limit: IDR(1_000_000_000),
    });
  });

  it('DANA 20,000,000 IDR per day, counting what was already paid today', () => {
    const spent = (minor: number) => ({ today: IDR(minor), thisYear: IDR(minor) });
    expect(checkWalletLimits('DANA', IDR(30_000), spent(2_000_000_000 - 30_001))).toEqual({ ok: true });
    expect(checkWalletLimits('DANA', IDR(30_000), spent(2_000_000_000 - 30_000))).toEqual({ ok: true });
    expect(checkWalletLimits('DANA', IDR(30_000), spent(2_000_000_000 - 29_999))).toEqual({
      ok: false,
      reason: 'ABOVE_DAILY',
      limit: IDR(2_000_000_000),
    });
  });

  it('refuses an amount in the wrong currency for the wallet', () => {
    expect(checkWalletLimits('DANA', HKD(100_000), noneIdr)).toEqual({ ok: false, reason: 'CURRENCY_MISMATCH' });
    expect(checkWalletLimits('ALIPAY_HK', IDR(100_000), none)).toEqual({ ok: false, reason: 'CURRENCY_MISMATCH' });
    expect(checkWalletLimits('ALIPAY_HK', HKD(100), noneIdr)).toEqual({ ok: false, reason: 'CURRENCY_MISMATCH' });
  });
});

describe('wallet-local calendar windows', () => {
  it('uses Hong Kong time (UTC+8) for AlipayHK and Jakarta time (UTC+7) for DANA', () => {
    const at = new Date('2026-03-31T16:30:00Z'); // 00:30 on Apr 1 in HK, 23:30 on Mar 31 in Jakarta
    expect(walletLocalDate('ALIPAY_HK', at)).toBe('2026-04-01');
    expect(walletLocalDate('DANA', at)).toBe('2026-03-31');
    expect(walletWindow('DANA', at, 'day')).toEqual({
      start: new Date('2026-03-30T17:00:00Z'),
      end: new Date('2026-03-31T17:00:00Z'),
    });
    expect(walletWindow('ALIPAY_HK', at, 'year')).toEqual({
      start: new Date('2025-12-31T16:00:00Z'),
      end: new Date('2026-12-31T16:00:00Z'),
    });
    expect(walletWindow('DANA', at, 'month')).toEqual({
      start: new Date('2026-02-28T17:00:00Z'),
      end: new Date('2026-03-31T17:00:00Z'),
    });
  });
});

describe('cancel rules', () => {
  it('AlipayHK: until 00:15 UTC+8 of the next day', () => {
    const paid = new Date('2026-05-10T03:00:00Z'); // 11:00 HK on May 10
    expect(canCancel('ALIPAY_HK', paid, new Date('2026-05-10T16:14:59Z'))).toBe(true); // 00:14:59 HK May 11
    expect(canCancel('ALIPAY_HK', paid, new Date('2026-05-10T16:15:00Z'))).toBe(false); // 00:15 HK May 11
  });

  it('DANA: never', () => {
    const paid = new Date('2026-05-10T03:00:00Z');
    expect(canCancel('DANA', paid, paid)).toBe(false);
  });
});

describe('refund rules', () => {
  const paidAt = new Date('2026-01-01T00:00:00Z');
  const base = { paid: HKD(10_000), paidAt, alreadyRefunded: HKD(0), requested: HKD(5_000), now: paidAt };

  it('allows partial refunds up to the amount paid, cumulatively', () => {
    expect(checkRefund('ALIPAY_HK', base)).toEqual({ ok: true });
    expect(checkRefund('ALIPAY_HK', { ...base, alreadyRefunded: HKD(5_000), requested: HKD(5_000) })).toEqual({ ok: true });
    expect(checkRefund('ALIPAY_HK', { ...base, alreadyRefunded: HKD(5_000), requested: HKD(5_001) })).toEqual({
      ok: false,
      reason: 'REFUND_EXCEEDS_PAID',
    });
  });

  it('allows refunds for 365 days and not one millisecond more', () => {
    const day = 86_400_000;
    expect(checkRefund('ALIPAY_HK', { ...base, now: new Date(paidAt.getTime() + 365 * day) })).toEqual({ ok: true });
    expect(checkRefund('ALIPAY_HK', { ...base, now: new Date(paidAt.getTime() + 365 * day + 1) })).toEqual({
      ok: false,
      reason: 'REFUND_WINDOW_EXCEEDED',
    });
  });

  it('applies the wallet minimum to refunds', () => {
    const dana = { paid: IDR(100_000), paidAt, alreadyRefunded: IDR(0), requested: IDR(29_999), now: paidAt };
    expect(checkRefund('DANA', dana)).toEqual({ ok: false, reason: 'BELOW_MIN' });
    expect(checkRefund('DANA', { ...dana, requested: IDR(30_000) })).toEqual({ ok: true });
  });

  it('refuses a refund in another currency', () => {
    expect(checkRefund('ALIPAY_HK', { ...base, requested: IDR(5_000) as never })).toEqual({ ok: false, reason: 'CURRENCY_MISMATCH' });
  });
});
