import { beforeEach, describe, expect, it } from 'vitest';
import { ACK, admin, bind, call, payBody, type Receiver, type TestSandbox, uid, useSandboxAndReceiver, waitFor } from './helpers.ts';

let sb: TestSandbox;
let rx: Receiver;
let token: string;
useSandboxAndReceiver((s, r) => {
  sb = s;
  rx = r;
});
beforeEach(async () => {
  await admin(sb, 'POST', '/reset');
  rx.respond = () => ({ status: 200, body: ACK });
  token = (await bind(sb, rx, 'ALIPAY_HK')).accessToken;
});

const fault = (body: object) => admin(sb, 'POST', '/faults', body);
const notificationsFor = (id: string) => rx.received.filter((r) => r.json?.paymentRequestId === id);
async function balance(): Promise<number> {
  return (await admin(sb, 'GET', '/state')).json.accounts[0].balance;
}

describe('API faults', () => {
  it("'U' answers PAYMENT_IN_PROCESS; the payment succeeds after the next inquiry and is notified", async () => {
    expect((await fault({ endpoint: 'pay', mode: 'U', count: 1 })).status).toBe(200);
    const body = payBody('ALIPAY_HK', token, '700', rx.url);
    const p = await call(sb, 'payments/pay', body);
    expect(p.json.result).toMatchObject({ resultStatus: 'U', resultCode: 'PAYMENT_IN_PROCESS' });
    expect(p.json.paymentId).toBeDefined();
    expect(await balance()).toBe(1_000_000);
    expect((await call(sb, 'payments/inquiryPayment', { paymentRequestId: body.paymentRequestId })).json.paymentStatus).toBe('PROCESSING');
    const n = await waitFor(() => notificationsFor(body.paymentRequestId)[0]);
    expect(n.json.result.resultStatus).toBe('S');
    expect((await call(sb, 'payments/inquiryPayment', { paymentRequestId: body.paymentRequestId })).json.paymentStatus).toBe('SUCCESS');
    expect(await balance()).toBe(1_000_000 - 700);
    const retry = await call(sb, 'payments/pay', body);
    expect(retry.json).toMatchObject({ result: { resultStatus: 'S' }, paymentId: p.json.paymentId });
  });

  it("'U' with resolveAs F fails after the inquiry and notifies F", async () => {
    await fault({ endpoint: 'pay', mode: 'U', count: 1, resolveAs: 'F', failCode: 'RISK_REJECT' });
    const body = payBody('ALIPAY_HK', token, '700', rx.url);
    await call(sb, 'payments/pay', body);
    await call(sb, 'payments/inquiryPayment', { paymentRequestId: body.paymentRequestId });
    const n = await waitFor(() => notificationsFor(body.paymentRequestId)[0]);
    expect(n.json.result).toMatchObject({ resultStatus: 'F', resultCode: 'RISK_REJECT' });
    const q = await call(sb, 'payments/inquiryPayment', { paymentRequestId: body.paymentRequestId });
    expect(q.json).toMatchObject({ paymentStatus: 'FAIL', paymentResultCode: 'RISK_REJECT' });
  });

  it("'U' with resolveAs never stays PROCESSING until the 1-minute expiry closes it", async () => {
    await fault({ endpoint: 'pay', mode: 'U', count: 1, resolveAs: 'never' });
    const body = payBody('ALIPAY_HK', token, '700', rx.url);
    await call(sb, 'payments/pay', body);
    for (let i = 0; i < 3; i++)
      expect((await call(sb, 'payments/inquiryPayment', { paymentRequestId: body.paymentRequestId })).json.paymentStatus).toBe('PROCESSING');
    await admin(sb, 'POST', '/clock', { advanceMs: 60_000 });
    const q = await call(sb, 'payments/inquiryPayment', { paymentRequestId: body.paymentRequestId });
    expect(q.json).toMatchObject({ paymentStatus: 'FAIL', paymentResultCode: 'ORDER_IS_CLOSED' });
    const n = await waitFor(() => notificationsFor(body.paymentRequestId)[0]);
    expect(n.json.result.resultStatus).toBe('F');
    expect(await balance()).toBe(1_000_000);
  });

  it("'U' with resolveAfterMs resolves by the sandbox clock; cancel stops a PROCESSING payment", async () => {
    await fault({ endpoint: 'pay', mode: 'U', count: 2, resolveAfterMs: 5000 });
    const a = payBody('ALIPAY_HK', token, '100', rx.url);
    const b = payBody('ALIPAY_HK', token, '200', rx.url);
    await call(sb, 'payments/pay', a);
    await call(sb, 'payments/pay', b);
    expect((await call(sb, 'payments/inquiryPayment', { paymentRequestId: a.paymentRequestId })).json.paymentStatus).toBe('PROCESSING');
    expect((await call(sb, 'payments/cancel', { paymentRequestId: b.paymentRequestId })).json.result.resultStatus).toBe('S');
    await admin(sb, 'POST', '/clock', { advanceMs: 5000 });
    expect((await call(sb, 'payments/inquiryPayment', { paymentRequestId: a.paymentRequestId })).json.paymentStatus).toBe('SUCCESS');
    expect((await call(sb, 'payments/inquiryPayment', { paymentRequestId: b.paymentRequestId })).json.paymentStatus).toBe('CANCELLED');
    expect(await balance()).toBe(1_000_000 - 100);
  });

  it("'U' on other endpoints answers UNKNOWN_EXCEPTION without processing", async () => {
    const p = await call(sb, 'payments/pay', payBody('ALIPAY_HK', token, '1000'));
    await fault({ endpoint: 'refund', mode: 'U', count: 1 });
    const r = { refundRequestId: uid('R'), paymentId: p.json.paymentId, refundAmount: { currency: 'HKD', value: '100' } };
    expect((await call(sb, 'payments/refund', r)).json.result).toMatchObject({ resultStatus: 'U', resultCode: 'UNKNOWN_EXCEPTION' });
    expect((await admin(sb, 'GET', '/state')).json.refunds).toHaveLength(0);
    expect((await call(sb, 'payments/refund', r)).json.result.resultStatus).toBe('S');
  });

  it("'5xx' answers 503 and does not process; the retry succeeds", async () => {
    await fault({ endpoint: 'pay', mode: '5xx', count: 1 });
    const body = payBody('ALIPAY_HK', token, '100');
    const res = await fetch(`${sb.url}/ams/api/v1/payments/pay`, { method: 'POST' }).catch(() => undefined);
    expect(res?.status).toBe(200); // unsigned garbage is refused before any fault is taken
    const a = await call(sb, 'payments/pay', body);
    expect(a.status).toBe(503);
    expect((await call(sb, 'payments/inquiryPayment', { paymentRequestId: body.paymentRequestId })).json.result.resultCode).toBe('ORDER_NOT_EXIST');
    expect((await call(sb, 'payments/pay', body)).json.result.resultStatus).toBe('S');
  });

  it("'drop' cuts the connection after processing; inquiry finds the payment", async () => {
    await fault({ endpoint: 'pay', mode: 'drop', count: 1 });
    const body = payBody('ALIPAY_HK', token, '100');
    await expect(call(sb, 'payments/pay', body)).rejects.toThrow();
    expect((await call(sb, 'payments/inquiryPayment', { paymentRequestId: body.paymentRequestId })).json.paymentStatus).toBe('SUCCESS');
  });

  it("'timeout' never answers; the client gives up; the payment was processed", async () => {
    await fault({ endpoint: 'pay', mode: 'timeout', count: 1, delayMs: 10_000 });
    const body = payBody('ALIPAY_HK', token, '100');
    const started = Date.now();
    await expect(call(sb, 'payments/pay', body, { signal: AbortSignal.timeout(200) })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await call(sb, 'payments/inquiryPayment', { paymentRequestId: body.paymentRequestId })).json.paymentStatus).toBe('SUCCESS');
  });

  it("'delay' answers after the delay", async () => {
    const p = await call(sb, 'payments/pay', payBody('ALIPAY_HK', token, '100'));
    await fault({ endpoint: 'inquiryPayment', mode: 'delay', count: 1, delayMs: 200 });
    const started = Date.now();
    const q = await call(sb, 'payments/inquiryPayment', { paymentId: p.json.paymentId });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(q.json.paymentStatus).toBe('SUCCESS');
  });

  it('refuses malformed fault definitions and requires the admin token', async () => {
    expect((await fault({ endpoint: 'nope', mode: 'U', count: 1 })).status).toBe(400);
    expect((await fault({ endpoint: 'pay', mode: 'U', count: 0 })).status).toBe(400);
    const res = await fetch(`${sb.url}/__admin/state`, { headers: { authorization: 'Bearer wrong' } });
    expect(res.status).toBe(401);
    expect((await fetch(`${sb.url}/__admin/state`)).status).toBe(401);
    expect((await admin(sb, 'DELETE', '/faults')).status).toBe(200);
  });
});

describe('notification delivery', () => {
  it('retries on anything but the exact ack and stops on it', async () => {
    const bodies = ['', 'OK', '{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"Success"}}'];
    rx.respond = (n) => {
      const i = rx.received.filter((r) => r.json?.paymentRequestId === n.json?.paymentRequestId).length - 1;
      if (i === 0) return { status: 500, body: ACK };
      return i <= bodies.length ? { status: 200, body: bodies[i - 1] ?? '' } : { status: 200, body: ACK };
    };
    const body = payBody('ALIPAY_HK', token, '100', rx.url);
    await call(sb, 'payments/pay', body);
    await waitFor(() => notificationsFor(body.paymentRequestId).length >= 5, 5000);
    await new Promise((r) => setTimeout(r, 300));
    expect(notificationsFor(body.paymentRequestId)).toHaveLength(5);
    const state = (await admin(sb, 'GET', '/state')).json;
    const n = state.notifications.find((x: { kind: string; body: { paymentRequestId?: string } }) => x.body.paymentRequestId === body.paymentRequestId);
    expect(n.status).toBe('DELIVERED');
    expect(n.attempts.map((a: { acknowledged: boolean }) => a.acknowledged)).toEqual([false, false, false, false, true]);
    const gaps = n.attempts.slice(1).map((a: { at: number }, i: number) => a.at - n.attempts[i].at);
    // 2 min, 10 min, 10 min, 1 h scaled by 0.0001 = 12, 60, 60, 360 ms (at least)
    expect(gaps[0]).toBeGreaterThanOrEqual(12);
    expect(gaps[1]).toBeGreaterThanOrEqual(60);
    expect(gaps[3]).toBeGreaterThanOrEqual(360);
  });

  it('gives up after 8 attempts on the schedule', async () => {
    rx.respond = () => ({ status: 503, body: '' });
    const body = payBody('ALIPAY_HK', token, '100', rx.url);
    await call(sb, 'payments/pay', body);
    for (let i = 1; i <= 8; i++) {
      await waitFor(() => notificationsFor(body.paymentRequestId).length >= i, 3000);
      await admin(sb, 'POST', '/clock', { advanceMs: 3_600_000 });
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(notificationsFor(body.paymentRequestId)).toHaveLength(8);
    const n = (await admin(sb, 'GET', '/state')).json.notifications.find(
      (x: { body: { paymentRequestId?: string } }) => x.body.paymentRequestId === body.paymentRequestId,
    );
    expect(n.status).toBe('FAILED');
  });

  it('duplicate sends the same notification twice', async () => {
    await admin(sb, 'POST', '/notifications/faults', { mode: 'duplicate', count: 1 });
    const body = payBody('ALIPAY_HK', token, '100', rx.url);
    await call(sb, 'payments/pay', body);
    const [a, b] = await waitFor(() => notificationsFor(body.paymentRequestId).length >= 2 && notificationsFor(body.paymentRequestId));
    expect(a?.body).toBe(b?.body);
  });

  it('withhold keeps notifications until release', async () => {
    await admin(sb, 'POST', '/notifications/faults', { mode: 'withhold', count: 1 });
    const body = payBody('ALIPAY_HK', token, '100', rx.url);
    await call(sb, 'payments/pay', body);
    await new Promise((r) => setTimeout(r, 100));
    expect(notificationsFor(body.paymentRequestId)).toHaveLength(0);
    expect((await admin(sb, 'POST', '/notifications/release')).json.released).toBe(1);
    await waitFor(() => notificationsFor(body.paymentRequestId).length === 1);
  });

  it('reorder delivers a batch newest first', async () => {
    await admin(sb, 'POST', '/notifications/faults', { mode: 'reorder', count: 2 });
    const first = payBody('ALIPAY_HK', token, '100', rx.url);
    const second = payBody('ALIPAY_HK', token, '200', rx.url);
    const before = rx.received.length;
    await call(sb, 'payments/pay', first);
    await call(sb, 'payments/pay', second);
    await waitFor(() => rx.received.length >= before + 2);
    expect(rx.received.slice(before).map((r) => r.json.paymentRequestId)).toEqual([second.paymentRequestId, first.paymentRequestId]);
  });

  it('delay holds a notification back', async () => {
    await admin(sb, 'POST', '/notifications/faults', { mode: 'delay', count: 1, delayMs: 200 });
    const body = payBody('ALIPAY_HK', token, '100', rx.url);
    const started = Date.now();
    await call(sb, 'payments/pay', body);
    await waitFor(() => notificationsFor(body.paymentRequestId).length === 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });
});
