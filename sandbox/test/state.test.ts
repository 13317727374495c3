import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type PaymentRecord, StateStore, seedState } from '../src/core/state.ts';

/*
 * The state store's payment lookups (issue 17: a pay no longer scans every payment ever made).
 * They must answer exactly as a scan of `state.payments` would, whoever appended or settled a
 * payment, across a state replaced by an admin reset and a state loaded from disk.
 */

let seq = 0;
const payment = (over: Partial<PaymentRecord> = {}): PaymentRecord => {
  seq++;
  return {
    paymentId: `P${seq}`,
    paymentRequestId: `R${seq}`,
    fingerprint: '{}',
    wallet: 'ALIPAY_HK',
    accessToken: 'token',
    currency: 'HKD',
    amount: 100,
    createdAt: 0,
    expiresAt: 60_000,
    status: 'PROCESSING',
    resultCode: 'PAYMENT_IN_PROCESS',
    resultMessage: 'payment in process',
    ...over,
  };
};

describe('StateStore payment lookups', () => {
  let dir: string;
  let store: StateStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-state-'));
    store = new StateStore(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds a payment appended to the state by its id or request id; the id wins when both are given', () => {
    const a = payment();
    const b = payment();
    expect(store.payment({ paymentId: a.paymentId })).toBeUndefined();
    store.state.payments.push(a, b);
    expect(store.payment({ paymentId: a.paymentId })).toBe(a);
    expect(store.payment({ paymentRequestId: b.paymentRequestId })).toBe(b);
    expect(store.payment({ paymentId: a.paymentId, paymentRequestId: b.paymentRequestId })).toBe(a);
    expect(store.payment({ paymentId: 'P-none', paymentRequestId: b.paymentRequestId })).toBeUndefined();
    expect(store.payment({})).toBeUndefined();
    // As a scan finds the first: a later payment reusing an id does not shadow it.
    store.state.payments.push(payment({ paymentRequestId: b.paymentRequestId }));
    expect(store.payment({ paymentRequestId: b.paymentRequestId })).toBe(b);
  });

  it("lists an account's payments once they are settled against it, whatever their status becomes", () => {
    const settled = payment();
    const failed = payment();
    const other = payment();
    store.state.payments.push(settled, failed, other);
    expect(store.paymentsOf('alice')).toEqual([]);
    // Settled after it was appended and looked at (payment-rules' settle writes loginId).
    settled.loginId = 'alice';
    settled.status = 'SUCCESS';
    failed.status = 'FAIL';
    other.loginId = 'bob';
    expect(store.paymentsOf('alice')).toEqual([settled]);
    expect(store.paymentsOf('bob')).toEqual([other]);
    // Appended already settled.
    const later = payment({ loginId: 'alice', status: 'SUCCESS' });
    store.state.payments.push(later);
    settled.status = 'CANCELLED';
    expect(store.paymentsOf('alice')).toEqual([settled, later]);
    expect(store.paymentsOf('alice').filter((p) => p.status === 'SUCCESS')).toEqual([later]);
  });

  it('starts over when the state is replaced (admin reset), and rebuilds from a state loaded from disk', () => {
    const p = payment({ loginId: 'alice', status: 'SUCCESS' });
    store.state.payments.push(p);
    expect(store.payment({ paymentId: p.paymentId })).toBe(p);
    store.flush();
    store.state = seedState();
    expect(store.payment({ paymentId: p.paymentId })).toBeUndefined();
    expect(store.paymentsOf('alice')).toEqual([]);
    const reopened = new StateStore(dir);
    expect(reopened.payment({ paymentRequestId: p.paymentRequestId })?.paymentId).toBe(p.paymentId);
    expect(reopened.paymentsOf('alice').map((x) => x.paymentId)).toEqual([p.paymentId]);
  });
});
