import { canCancel, checkRefund, checkWalletLimits, money, walletInfo } from '@scan-to-bind/shared/domain';
import { describe, expect, it, vi } from 'vitest';
import { admin, bind, call, payBody, uid, useFreshSandbox } from './helpers.ts';

// The sandbox must judge the relay by Antom's rules, not by shared/'s: here shared's limit
// rules and wallet figures are replaced by wrong, permissive ones (as a bug there would make
// them), and the sandbox must still refuse what Antom's reference refuses, with Antom's code.
vi.mock('../../shared/domain/limits.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../shared/domain/limits.ts')>();
  return {
    ...real,
    checkWalletLimits: () => ({ ok: true }),
    walletWindow: (_w: unknown, at: Date) => ({ start: at, end: at }),
    canCancel: () => true,
    checkRefund: () => ({ ok: true }),
  };
});
vi.mock('../../shared/domain/wallets.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../shared/domain/wallets.ts')>();
  const wrong = (id: Parameters<typeof real.walletInfo>[0]) => ({
    ...real.walletInfo(id),
    caps: { minPerTransaction: 0, maxPerTransaction: Number.MAX_SAFE_INTEGER, maxPerDay: Number.MAX_SAFE_INTEGER, maxPerYear: Number.MAX_SAFE_INTEGER },
    refundWindowDays: 100_000,
    cancel: { kind: 'untilNextDay', hour: 23, minute: 59 },
  });
  return { ...real, walletInfo: wrong, WALLETS: { ALIPAY_HK: wrong('ALIPAY_HK'), DANA: wrong('DANA') } };
});

const env = useFreshSandbox();

const DAY = 86_400_000;

describe('the sandbox keeps Antom’s verdict when shared’s rules are wrong', () => {
  it('the wrong rules are really in place (else this file proves nothing)', () => {
    const now = new Date();
    expect(checkRefund('ALIPAY_HK', { paid: money(100, 'HKD'), paidAt: now, alreadyRefunded: money(100, 'HKD'), requested: money(100, 'HKD'), now })).toEqual({
      ok: true,
    });
    expect(checkWalletLimits('ALIPAY_HK', money(100_000_000, 'HKD'))).toEqual({ ok: true });
    expect(canCancel('DANA', now, now)).toBe(true);
    expect(walletInfo('DANA').caps.minPerTransaction).toBe(0);
  });

  it('refunds: the sum above what was paid is REFUND_AMOUNT_EXCEED; after 365 days REFUND_WINDOW_EXCEED', async () => {
    const t = await bind(env.sb, env.rx, 'ALIPAY_HK');
    const p = await call(env.sb, 'payments/pay', payBody('ALIPAY_HK', t.accessToken, '1000'));
    const refund = (value: string) =>
      call(env.sb, 'payments/refund', { refundRequestId: uid('R'), paymentId: p.json.paymentId, refundAmount: { currency: 'HKD', value } });
    expect((await refund('600')).json.result.resultStatus).toBe('S');
    expect((await refund('401')).json.result).toMatchObject({ resultStatus: 'F', resultCode: 'REFUND_AMOUNT_EXCEED' });
    await admin(env.sb, 'POST', '/clock', { advanceMs: 365 * DAY });
    expect((await refund('1')).json.result).toMatchObject({ resultStatus: 'F', resultCode: 'REFUND_WINDOW_EXCEED' });
  });

  it('cancel: DANA never; AlipayHK not after 00:15 UTC+8 on the next day', async () => {
    const d = await bind(env.sb, env.rx, 'DANA');
    const dp = await call(env.sb, 'payments/pay', payBody('DANA', d.accessToken, '30000'));
    expect((await call(env.sb, 'payments/cancel', { paymentId: dp.json.paymentId })).json.result).toMatchObject({
      resultStatus: 'F',
      resultCode: 'CANCEL_WINDOW_EXCEED',
    });
    const h = await bind(env.sb, env.rx, 'ALIPAY_HK');
    const hp = await call(env.sb, 'payments/pay', payBody('ALIPAY_HK', h.accessToken, '100'));
    await admin(env.sb, 'POST', '/clock', { advanceMs: DAY + 16 * 60_000 });
    expect((await call(env.sb, 'payments/cancel', { paymentId: hp.json.paymentId })).json.result).toMatchObject({
      resultStatus: 'F',
      resultCode: 'CANCEL_WINDOW_EXCEED',
    });
  });

  it('pay: the wallet minimum, the cap per transaction and the yearly cap', async () => {
    const d = await bind(env.sb, env.rx, 'DANA');
    expect((await call(env.sb, 'payments/pay', payBody('DANA', d.accessToken, '29999'))).json.result).toMatchObject({
      resultStatus: 'F',
      resultCode: 'PARAM_ILLEGAL',
    });
    const h = await bind(env.sb, env.rx, 'ALIPAY_HK');
    await admin(env.sb, 'POST', '/accounts/balance', { loginId: '852-6123-8812', balance: { currency: 'HKD', value: '100000000' } });
    expect((await call(env.sb, 'payments/pay', payBody('ALIPAY_HK', h.accessToken, '5000001'))).json.result).toMatchObject({
      resultStatus: 'F',
      resultCode: 'PAYMENT_AMOUNT_EXCEED_LIMIT',
    });
    for (let i = 0; i < 4; i++) expect((await call(env.sb, 'payments/pay', payBody('ALIPAY_HK', h.accessToken, '5000000'))).json.result.resultStatus).toBe('S');
    expect((await call(env.sb, 'payments/pay', payBody('ALIPAY_HK', h.accessToken, '1'))).json.result).toMatchObject({
      resultStatus: 'F',
      resultCode: 'USER_AMOUNT_EXCEED_LIMIT',
    });
  });
});
