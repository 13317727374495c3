import type { z } from 'zod';
import { isoWithOffset } from '../core/clock.ts';
import type { SandboxContext } from '../core/context.ts';
import { antomId } from '../core/ids.ts';
import type { RefundRecord } from '../core/state.ts';
import { checkRefundRules, WALLET_CURRENCY } from './antom-rules.ts';
import { type AntomBody, canonicalJson, fail, ok } from './result.ts';
import type { RefundLookup, RefundRequest } from './schemas.ts';

/**
 * refund: the refund period and sum of antom-rules.ts (partial and multiple refunds
 * while the total stays within what was paid, within 365 days, at least the wallet minimum);
 * idempotent on refundRequestId. A refund refused by the period or the sum is recorded
 * (same id → same F). notifyRefund is sent only when refundNotifyUrl is given (when
 * Antom sends it is an open question; wallet refunds answer synchronously, so only on request).
 */
export function refund(ctx: SandboxContext, body: z.infer<typeof RefundRequest>, raw: unknown): AntomBody {
  const { state } = ctx.store;
  const fingerprint = canonicalJson(raw);
  const existing = state.refunds.find((r) => r.refundRequestId === body.refundRequestId);
  if (existing) {
    if (existing.fingerprint !== fingerprint) return fail('REPEAT_REQ_INCONSISTENT', 'refundRequestId was already used with different parameters');
    return refundResponse(existing);
  }
  const p = ctx.store.payment({ paymentId: body.paymentId });
  if (!p) return fail('ORDER_NOT_EXIST', 'the payment does not exist');
  if (p.status !== 'SUCCESS') return fail('ORDER_STATUS_INVALID', `the payment is ${p.status}; only a successful payment can be refunded`);
  const now = ctx.clock.now();
  const currency = WALLET_CURRENCY[p.wallet];
  const already = state.refunds.filter((r) => r.paymentId === p.paymentId && r.status === 'SUCCESS').reduce((s, r) => s + r.amount, 0);
  const requested = Number(body.refundAmount.value);
  if (!Number.isSafeInteger(requested)) return fail('PARAM_ILLEGAL', 'refundAmount.value: too large');
  const check = checkRefundRules({
    wallet: p.wallet,
    currency: body.refundAmount.currency,
    paid: p.amount,
    orderedAt: p.createdAt,
    alreadyRefunded: already,
    requested,
    now,
  });
  // Parameter refusals answer without a record; a refusal by the period or the sum is recorded (same id → same F).
  if (!check.ok && (check.code === 'PARAM_ILLEGAL' || check.code === 'CURRENCY_NOT_SUPPORT')) return fail(check.code, check.message);
  const r: RefundRecord = {
    refundId: antomId(now, '21', ctx.store.nextSeq()),
    refundRequestId: body.refundRequestId,
    fingerprint,
    paymentId: p.paymentId,
    currency,
    amount: requested,
    status: check.ok ? 'SUCCESS' : 'FAIL',
    resultCode: check.ok ? 'SUCCESS' : check.code,
    resultMessage: check.ok ? 'success' : check.message,
    createdAt: now,
    refundNotifyUrl: body.refundNotifyUrl,
  };
  state.refunds.push(r);
  if (r.status === 'SUCCESS') {
    const account = state.accounts.find((a) => a.loginId === p.loginId);
    if (account) account.balance += requested;
    if (r.refundNotifyUrl) {
      ctx.notifier.enqueue('notifyRefund', r.refundNotifyUrl, {
        notifyType: 'REFUND_RESULT',
        result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
        refundStatus: 'SUCCESS',
        refundRequestId: r.refundRequestId,
        refundId: r.refundId,
        paymentId: r.paymentId,
        refundAmount: { currency: r.currency, value: String(r.amount) },
        refundTime: isoWithOffset(r.createdAt),
      });
    }
  }
  ctx.store.save();
  return refundResponse(r);
}

function refundFields(r: RefundRecord): Record<string, unknown> {
  return {
    refundRequestId: r.refundRequestId,
    paymentId: r.paymentId,
    refundAmount: { currency: r.currency, value: String(r.amount) },
    ...(r.status === 'SUCCESS' ? { refundId: r.refundId, refundTime: isoWithOffset(r.createdAt) } : {}),
  };
}

function refundResponse(r: RefundRecord): AntomBody {
  return r.status === 'SUCCESS' ? ok(refundFields(r)) : fail(r.resultCode, r.resultMessage, refundFields(r));
}

/** inquiryRefund: refundId wins over refundRequestId. */
export function inquiryRefund(ctx: SandboxContext, body: z.infer<typeof RefundLookup>): AntomBody {
  const { refunds } = ctx.store.state;
  const r = body.refundId ? refunds.find((x) => x.refundId === body.refundId) : refunds.find((x) => x.refundRequestId === body.refundRequestId);
  if (!r) return fail('ORDER_NOT_EXIST', 'the refund does not exist');
  return ok({
    ...refundFields(r),
    refundId: r.refundId,
    refundStatus: r.status,
    ...(r.status === 'FAIL' ? { refundResultCode: r.resultCode } : {}),
  });
}
