import { describe, expect, it } from 'vitest';
import { admin, bind, call, notificationSignatureValid, payBody, responseSignatureValid, uid, useFreshSandbox, waitFor } from './helpers.ts';

const env = useFreshSandbox();

async function balance(loginId: string): Promise<number> {
  const state = (await admin(env.sb, 'GET', '/state')).json;
  return state.accounts.find((a: { loginId: string }) => a.loginId === loginId).balance;
}

describe('pay', () => {
  it('debits the account, answers S with ids and sends a signed notifyPayment', async () => {
    const t = await bind(env.sb, env.rx, 'ALIPAY_HK');
    const body = payBody('ALIPAY_HK', t.accessToken, '1250', env.rx.url);
    const p = await call(env.sb, 'payments/pay', body);
    expect(p.json.result).toEqual({ resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' });
    expect(p.json.paymentRequestId).toBe(body.paymentRequestId);
    expect(p.json.paymentId).toMatch(/^\d+$/);
    expect(p.json.paymentAmount).toEqual({ currency: 'HKD', value: '1250' });
    expect(responseSignatureValid(env.sb, '/ams/api/v1/payments/pay', p)).toBe(true);
    expect(await balance('852-6123-8812')).toBe(1_000_000 - 1250);
    const n = await waitFor(() => env.rx.received.find((r) => r.json?.paymentRequestId === body.paymentRequestId));
    expect(n.path).toBe('/notify/pay');
    expect(n.json).toMatchObject({ notifyType: 'PAYMENT_RESULT', paymentId: p.json.paymentId, result: { resultStatus: 'S' } });
    expect(notificationSignatureValid(env.sb, n)).toBe(true);
    const q = await call(env.sb, 'payments/inquiryPayment', { paymentRequestId: body.paymentRequestId });
    expect(q.json).toMatchObject({ result: { resultStatus: 'S' }, paymentStatus: 'SUCCESS', paymentId: p.json.paymentId });
    const byId = await call(env.sb, 'payments/inquiryPayment', { paymentId: p.json.paymentId });
    expect(byId.json.paymentStatus).toBe('SUCCESS');
  });

  it('is idempotent: same id + same body → same result; same id + different body → REPEAT_REQ_INCONSISTENT', async () => {
    const t = await bind(env.sb, env.rx, 'ALIPAY_HK');
    const body = payBody('ALIPAY_HK', t.accessToken, '1000');
    const first = await call(env.sb, 'payments/pay', body);
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const second = await call(env.sb, 'payments/pay', JSON.stringify(reordered));
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(body));
    expect(second.json.paymentId).toBe(first.json.paymentId);
    expect(second.json.result.resultStatus).toBe('S');
    expect(await balance('852-6123-8812')).toBe(1_000_000 - 1000);
    const changed = await call(env.sb, 'payments/pay', { ...body, paymentAmount: { currency: 'HKD', value: '1001' } });
    expect(changed.json.result).toMatchObject({ resultStatus: 'F', resultCode: 'REPEAT_REQ_INCONSISTENT' });
    expect(await balance('852-6123-8812')).toBe(1_000_000 - 1000);
  });

  it('replays an F result for the same id even after the cause is gone', async () => {
    const t = await bind(env.sb, env.rx, 'ALIPAY_HK', '852-6000-0001');
    const body = payBody('ALIPAY_HK', t.accessToken, '600');
    expect((await call(env.sb, 'payments/pay', body)).json.result.resultCode).toBe('USER_BALANCE_NOT_ENOUGH');
    await admin(env.sb, 'POST', '/accounts/balance', { loginId: '852-6000-0001', balance: { currency: 'HKD', value: '100000' } });
    expect((await call(env.sb, 'payments/pay', body)).json.result.resultCode).toBe('USER_BALANCE_NOT_ENOUGH');
    expect((await call(env.sb, 'payments/pay', { ...body, paymentRequestId: uid('PAY') })).json.result.resultStatus).toBe('S');
  });

  it('applies the wallet caps: minimum, per transaction, currency', async () => {
    const hk = await bind(env.sb, env.rx, 'ALIPAY_HK');
    const dana = await bind(env.sb, env.rx, 'DANA');
    expect((await call(env.sb, 'payments/pay', payBody('DANA', dana.accessToken, '29999'))).json.result.resultCode).toBe('PARAM_ILLEGAL');
    expect((await call(env.sb, 'payments/pay', payBody('DANA', dana.accessToken, '30000'))).json.result.resultStatus).toBe('S');
    await admin(env.sb, 'POST', '/accounts/balance', { loginId: '852-6123-8812', balance: { currency: 'HKD', value: '100000000' } });
    expect((await call(env.sb, 'payments/pay', payBody('ALIPAY_HK', hk.accessToken, '5000001'))).json.result.resultCode).toBe('PAYMENT_AMOUNT_EXCEED_LIMIT');
    const idr = { ...payBody('ALIPAY_HK', hk.accessToken, '100'), paymentAmount: { currency: 'IDR', value: '100' } };
    idr.order.orderAmount = { currency: 'IDR', value: '100' };
    expect((await call(env.sb, 'payments/pay', idr)).json.result.resultCode).toBe('CURRENCY_NOT_SUPPORT');
  });

  it('applies the AlipayHK yearly cap of HK$200,000', async () => {
    const hk = await bind(env.sb, env.rx, 'ALIPAY_HK');
    await admin(env.sb, 'POST', '/accounts/balance', { loginId: '852-6123-8812', balance: { currency: 'HKD', value: '100000000' } });
    for (let i = 0; i < 4; i++)
      expect((await call(env.sb, 'payments/pay', payBody('ALIPAY_HK', hk.accessToken, '5000000'))).json.result.resultStatus).toBe('S');
    expect((await call(env.sb, 'payments/pay', payBody('ALIPAY_HK', hk.accessToken, '1'))).json.result.resultCode).toBe('USER_AMOUNT_EXCEED_LIMIT');
  });

  it('applies the DANA account tier daily cap (UNVERIFIED: Rp 2,000,000)', async () => {
    const dana = await bind(env.sb, env.rx, 'DANA', '62-812-0000-0002');
    await admin(env.sb, 'POST', '/accounts/balance', { loginId: '62-812-0000-0002', balance: { currency: 'IDR', value: '1000000000' } });
    expect((await call(env.sb, 'payments/pay', payBody('DANA', dana.accessToken, '150000000'))).json.result.resultStatus).toBe('S');
    expect((await call(env.sb, 'payments/pay', payBody('DANA', dana.accessToken, '60000000'))).json.result.resultCode).toBe('USER_AMOUNT_EXCEED_LIMIT');
    await admin(env.sb, 'POST', '/clock', { advanceMs: 86_400_000 });
    expect((await call(env.sb, 'payments/pay', payBody('DANA', dana.accessToken, '60000000'))).json.result.resultStatus).toBe('S');
  });

  it('refuses bad pay requests with PARAM_ILLEGAL and changes nothing', async () => {
    const t = await bind(env.sb, env.rx, 'ALIPAY_HK');
    const good = payBody('ALIPAY_HK', t.accessToken, '100');
    const bad = [
      { ...good, productCode: 'CASHIER_PAYMENT' },
      { ...good, paymentAmount: { currency: 'HKD', value: '1.5' } },
      { ...good, paymentAmount: { currency: 'HKD', value: 100 } },
      { ...good, paymentMethod: { paymentMethodType: 'GCASH', paymentMethodId: t.accessToken } },
      { ...good, paymentRequestId: 'x'.repeat(65) },
      { ...good, paymentExpiryTime: new Date(Date.now() + 120_000).toISOString() },
      { ...good, order: { referenceOrderId: 'o' } },
    ];
    for (const b of bad) expect((await call(env.sb, 'payments/pay', b)).json.result.resultCode).toBe('PARAM_ILLEGAL');
    expect((await admin(env.sb, 'GET', '/state')).json.payments).toHaveLength(0);
  });

  it('inquiry of an unknown payment is ORDER_NOT_EXIST', async () => {
    expect((await call(env.sb, 'payments/inquiryPayment', { paymentRequestId: 'nope' })).json.result.resultCode).toBe('ORDER_NOT_EXIST');
    expect((await call(env.sb, 'payments/inquiryPayment', {})).json.result.resultCode).toBe('PARAM_ILLEGAL');
  });
});

describe('cancel', () => {
  it('cancels a paid AlipayHK payment the same day and returns the money (retry-safe)', async () => {
    const t = await bind(env.sb, env.rx, 'ALIPAY_HK');
    const p = await call(env.sb, 'payments/pay', payBody('ALIPAY_HK', t.accessToken, '2000'));
    const c = await call(env.sb, 'payments/cancel', { paymentId: p.json.paymentId });
    expect(c.json).toMatchObject({ result: { resultStatus: 'S' }, paymentId: p.json.paymentId });
    expect(c.json.cancelTime).toBeDefined();
    expect((await call(env.sb, 'payments/cancel', { paymentRequestId: p.json.paymentRequestId })).json.result.resultStatus).toBe('S');
    expect(await balance('852-6123-8812')).toBe(1_000_000);
    const q = await call(env.sb, 'payments/inquiryPayment', { paymentId: p.json.paymentId });
    expect(q.json.paymentStatus).toBe('CANCELLED');
    expect(
      (await call(env.sb, 'payments/refund', { refundRequestId: uid('R'), paymentId: p.json.paymentId, refundAmount: { currency: 'HKD', value: '1' } })).json
        .result.resultCode,
    ).toBe('ORDER_STATUS_INVALID');
  });

  it('refuses DANA, late AlipayHK and unknown payments', async () => {
    const hk = await bind(env.sb, env.rx, 'ALIPAY_HK');
    const dana = await bind(env.sb, env.rx, 'DANA');
    const dp = await call(env.sb, 'payments/pay', payBody('DANA', dana.accessToken, '30000'));
    expect((await call(env.sb, 'payments/cancel', { paymentId: dp.json.paymentId })).json.result.resultCode).toBe('CANCEL_WINDOW_EXCEED');
    const hp = await call(env.sb, 'payments/pay', payBody('ALIPAY_HK', hk.accessToken, '100'));
    await admin(env.sb, 'POST', '/clock', { advanceMs: 2 * 86_400_000 });
    expect((await call(env.sb, 'payments/cancel', { paymentId: hp.json.paymentId })).json.result.resultCode).toBe('CANCEL_WINDOW_EXCEED');
    expect((await call(env.sb, 'payments/cancel', { paymentId: 'nope' })).json.result.resultCode).toBe('ORDER_NOT_EXIST');
  });
});

describe('refund', () => {
  it('allows partial refunds up to the amount paid, idempotent on refundRequestId', async () => {
    const t = await bind(env.sb, env.rx, 'ALIPAY_HK');
    const p = await call(env.sb, 'payments/pay', payBody('ALIPAY_HK', t.accessToken, '1000'));
    const r1 = {
      refundRequestId: uid('R'),
      paymentId: p.json.paymentId,
      refundAmount: { currency: 'HKD', value: '400' },
      refundNotifyUrl: `${env.rx.url}/notify/refund`,
    };
    const a = await call(env.sb, 'payments/refund', r1);
    expect(a.json).toMatchObject({ result: { resultStatus: 'S' }, refundRequestId: r1.refundRequestId, refundAmount: { value: '400' } });
    const again = await call(env.sb, 'payments/refund', r1);
    expect(again.json.refundId).toBe(a.json.refundId);
    expect((await call(env.sb, 'payments/refund', { ...r1, refundAmount: { currency: 'HKD', value: '401' } })).json.result.resultCode).toBe(
      'REPEAT_REQ_INCONSISTENT',
    );
    const r2 = await call(env.sb, 'payments/refund', {
      refundRequestId: uid('R'),
      paymentId: p.json.paymentId,
      refundAmount: { currency: 'HKD', value: '600' },
    });
    expect(r2.json.result.resultStatus).toBe('S');
    const r3 = await call(env.sb, 'payments/refund', { refundRequestId: uid('R'), paymentId: p.json.paymentId, refundAmount: { currency: 'HKD', value: '1' } });
    expect(r3.json.result).toMatchObject({ resultStatus: 'F', resultCode: 'REFUND_AMOUNT_EXCEED' });
    expect(await balance('852-6123-8812')).toBe(1_000_000);
    const n = await waitFor(() => env.rx.received.find((x) => x.json?.refundRequestId === r1.refundRequestId));
    expect(n.json).toMatchObject({ refundStatus: 'SUCCESS', refundId: a.json.refundId });
    expect(notificationSignatureValid(env.sb, n)).toBe(true);
    const q = await call(env.sb, 'payments/inquiryRefund', { refundId: a.json.refundId });
    expect(q.json).toMatchObject({ result: { resultStatus: 'S' }, refundStatus: 'SUCCESS', refundRequestId: r1.refundRequestId });
    expect((await call(env.sb, 'payments/inquiryRefund', { refundRequestId: r1.refundRequestId })).json.refundId).toBe(a.json.refundId);
    expect((await call(env.sb, 'payments/inquiryRefund', { refundRequestId: 'nope' })).json.result.resultCode).toBe('ORDER_NOT_EXIST');
    const q2 = await call(env.sb, 'payments/inquiryPayment', { paymentId: p.json.paymentId });
    expect(q2.json.transactions).toHaveLength(2);
  });

  it('refuses refunds below the minimum, of unknown payments and after 365 days', async () => {
    const t = await bind(env.sb, env.rx, 'DANA');
    const p = await call(env.sb, 'payments/pay', payBody('DANA', t.accessToken, '100000'));
    expect(
      (await call(env.sb, 'payments/refund', { refundRequestId: uid('R'), paymentId: p.json.paymentId, refundAmount: { currency: 'IDR', value: '29999' } }))
        .json.result.resultCode,
    ).toBe('PARAM_ILLEGAL');
    expect(
      (await call(env.sb, 'payments/refund', { refundRequestId: uid('R'), paymentId: 'nope', refundAmount: { currency: 'IDR', value: '30000' } })).json.result
        .resultCode,
    ).toBe('ORDER_NOT_EXIST');
    await admin(env.sb, 'POST', '/clock', { advanceMs: 366 * 86_400_000 });
    expect(
      (await call(env.sb, 'payments/refund', { refundRequestId: uid('R'), paymentId: p.json.paymentId, refundAmount: { currency: 'IDR', value: '30000' } }))
        .json.result.resultCode,
    ).toBe('REFUND_WINDOW_EXCEED');
  });
});

describe('customs', () => {
  it('declares an AlipayHK payment idempotently and finds it by inquiry', async () => {
    const t = await bind(env.sb, env.rx, 'ALIPAY_HK');
    const p = await call(env.sb, 'payments/pay', payBody('ALIPAY_HK', t.accessToken, '5000'));
    const d = {
      declarationRequestId: 'DECL-1',
      paymentId: p.json.paymentId,
      declarationAmount: { currency: 'CNY', value: '4000' },
      customs: { customsCode: 'ZONGSHU', region: 'CN' },
      merchantCustomsInfo: { merchantCustomsCode: 'MC1', merchantCustomsName: 'Demo' },
      splitOrder: 'false',
    };
    const a = await call(env.sb, 'customs/declare', d);
    expect(a.json.result.resultStatus).toBe('S');
    expect(a.json.customsPaymentId).toBeDefined();
    expect((await call(env.sb, 'customs/declare', d)).json.customsPaymentId).toBe(a.json.customsPaymentId);
    expect((await call(env.sb, 'customs/declare', { ...d, splitOrder: true, subOrderId: 'S1' })).json.result.resultCode).toBe('REPEAT_REQ_INCONSISTENT');
    expect(
      (await call(env.sb, 'customs/declare', { ...d, declarationRequestId: 'DECL-2', declarationAmount: { currency: 'CNY', value: '1001' } })).json.result
        .resultCode,
    ).toBe('PARAM_ILLEGAL');
    expect((await call(env.sb, 'customs/declare', { ...d, declarationRequestId: 'DECL-3', splitOrder: true })).json.result.resultCode).toBe('PARAM_ILLEGAL');
    const q = await call(env.sb, 'customs/inquiryDeclarationRequests', { declarationRequestIds: ['DECL-1', 'DECL-X'] });
    expect(q.json.declarationRecords).toHaveLength(1);
    expect(q.json.declarationRecords[0]).toMatchObject({ declarationRequestId: 'DECL-1', declarationRequestStatus: 'SUCCESS' });
    expect(q.json.declarationRequestsNotFound).toEqual(['DECL-X']);
    expect(
      (await call(env.sb, 'customs/inquiryDeclarationRequests', { declarationRequestIds: Array.from({ length: 11 }, (_, i) => `D${i}`) })).json.result
        .resultCode,
    ).toBe('PARAM_ILLEGAL');
  });

  it('refuses DANA payments and unknown payments', async () => {
    const t = await bind(env.sb, env.rx, 'DANA');
    const p = await call(env.sb, 'payments/pay', payBody('DANA', t.accessToken, '30000'));
    const d = {
      declarationRequestId: 'DECL-D',
      paymentId: p.json.paymentId,
      declarationAmount: { currency: 'CNY', value: '100' },
      customs: { customsCode: 'ZONGSHU', region: 'CN' },
      merchantCustomsInfo: { merchantCustomsCode: 'MC1', merchantCustomsName: 'Demo' },
      splitOrder: false,
    };
    expect((await call(env.sb, 'customs/declare', d)).json.result.resultCode).toBe('ACCESS_DENIED');
    expect((await call(env.sb, 'customs/declare', { ...d, declarationRequestId: 'DECL-E', paymentId: 'nope' })).json.result.resultCode).toBe('ORDER_NOT_EXIST');
  });
});
