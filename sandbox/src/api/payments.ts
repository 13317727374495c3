import { isWalletId } from '@scan-to-bind/shared/domain';
import type { z } from 'zod';
import { isoWithOffset, parseIsoTime } from '../core/clock.ts';
import type { SandboxContext } from '../core/context.ts';
import { antomId } from '../core/ids.ts';
import type { PaymentRecord } from '../core/state.ts';
import type { ApiFault } from '../faults/faults.ts';
import { checkCancelWindow } from './antom-rules.ts';
import { notifyPaymentResult, PAYMENT_EXPIRY_MS, paymentFields, resolvePending, settle } from './payment-rules.ts';
import { type AntomBody, canonicalJson, fail, ok, unknown } from './result.ts';
import type { PayInput, PaymentLookup } from './schemas.ts';

/**
 * pay (AGREEMENT_PAYMENT). Idempotent on paymentRequestId: the same body gets the
 * stored result, a different body REPEAT_REQ_INCONSISTENT. Synchronous answers carry the
 * result; notifyPayment is sent for successes and for results that arrive later (U resolved,
 * expiry), not for a synchronous F.
 */
export function pay(ctx: SandboxContext, body: PayInput, raw: unknown, fault?: ApiFault): AntomBody {
  if (body.productCode !== 'AGREEMENT_PAYMENT') return fail('PARAM_ILLEGAL', 'productCode: must be AGREEMENT_PAYMENT');
  const wallet = body.paymentMethod.paymentMethodType;
  if (!isWalletId(wallet)) return fail('PARAM_ILLEGAL', 'paymentMethod.paymentMethodType: must be ALIPAY_HK or DANA');
  // Whether Antom's pay wants a top-level env or order.env is an open question; the safe reading
  // requires at least one of them.
  if (!body.env && !body.order.env) return fail('PARAM_ILLEGAL', 'env.terminalType: required (env or order.env)');
  if (body.order.orderAmount && body.order.orderAmount.currency !== body.paymentAmount.currency) {
    return fail('PARAM_ILLEGAL', 'order.orderAmount: currency differs from paymentAmount');
  }
  const { state } = ctx.store;
  const fingerprint = canonicalJson(raw);
  const existing = ctx.store.payment({ paymentRequestId: body.paymentRequestId });
  if (existing) {
    if (existing.fingerprint !== fingerprint) {
      return fail('REPEAT_REQ_INCONSISTENT', 'paymentRequestId was already used with different parameters');
    }
    return payResponse(ctx, existing);
  }
  const now = ctx.clock.now();
  let expiresAt = now + PAYMENT_EXPIRY_MS;
  if (body.paymentExpiryTime !== undefined) {
    const t = parseIsoTime(body.paymentExpiryTime);
    // Scan to Link: a custom expiry must be less than one minute after the request.
    if (t === undefined || t <= now || t - now >= PAYMENT_EXPIRY_MS) {
      return fail('PARAM_ILLEGAL', 'paymentExpiryTime: must be an ISO 8601 time less than 1 minute from now');
    }
    expiresAt = t;
  }
  const p: PaymentRecord = {
    paymentId: antomId(now, '11', ctx.store.nextSeq()),
    paymentRequestId: body.paymentRequestId,
    fingerprint,
    wallet,
    accessToken: body.paymentMethod.paymentMethodId,
    currency: body.paymentAmount.currency,
    amount: Number(body.paymentAmount.value),
    referenceOrderId: body.order.referenceOrderId,
    orderDescription: body.order.orderDescription,
    paymentNotifyUrl: body.paymentNotifyUrl,
    createdAt: now,
    expiresAt,
    status: 'PROCESSING',
    resultCode: 'PAYMENT_IN_PROCESS',
    resultMessage: 'payment in process',
  };
  state.payments.push(p);
  if (fault?.mode === 'U') {
    p.pending = {
      resolveAs: fault.resolveAs ?? 'S',
      inquiriesLeft: fault.resolveAfterInquiries ?? (fault.resolveAfterMs === undefined ? 1 : undefined),
      resolveAt: fault.resolveAfterMs === undefined ? undefined : now + fault.resolveAfterMs,
      failCode: fault.failCode ?? 'PROCESS_FAIL',
    };
    ctx.store.save();
    return payResponse(ctx, p);
  }
  settle(ctx, p);
  if (p.status === 'SUCCESS') notifyPaymentResult(ctx, p);
  return payResponse(ctx, p);
}

function payResponse(ctx: SandboxContext, p: PaymentRecord): AntomBody {
  const fields = paymentFields(ctx, p);
  switch (p.status) {
    case 'SUCCESS':
      return ok(fields);
    case 'PROCESSING':
      return unknown('PAYMENT_IN_PROCESS', 'payment in process', fields);
    case 'CANCELLED':
      return fail('ORDER_IS_CANCELED', 'the payment was cancelled', fields);
    default:
      return fail(p.resultCode, p.resultMessage, fields);
  }
}

/**
 * inquiryPayment. `result` is the inquiry's own status; the payment's is paymentStatus.
 * A U payment waiting for inquiries answers PROCESSING and resolves right after the answer.
 */
export function inquiryPayment(ctx: SandboxContext, body: z.infer<typeof PaymentLookup>): AntomBody {
  const p = ctx.store.payment(body);
  if (!p) return fail('ORDER_NOT_EXIST', 'the payment does not exist');
  const refunds = ctx.store.state.refunds.filter((r) => r.paymentId === p.paymentId && r.status === 'SUCCESS');
  const transactions = [
    ...refunds.map((r) => ({
      transactionType: 'REFUND',
      transactionStatus: 'SUCCESS',
      transactionId: r.refundId,
      transactionRequestId: r.refundRequestId,
      transactionAmount: { currency: r.currency, value: String(r.amount) },
      transactionTime: isoWithOffset(r.createdAt),
      transactionResult: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
    })),
    ...(p.status === 'CANCELLED' && p.cancelledAt !== undefined
      ? [
          {
            transactionType: 'CANCEL',
            transactionStatus: 'SUCCESS',
            transactionId: p.paymentId,
            transactionRequestId: p.paymentRequestId,
            transactionAmount: { currency: p.currency, value: String(p.amount) },
            transactionTime: isoWithOffset(p.cancelledAt),
            transactionResult: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
          },
        ]
      : []),
  ];
  const answer = ok({
    ...paymentFields(ctx, p),
    paymentStatus: p.status,
    paymentResultCode: p.status === 'CANCELLED' ? 'ORDER_IS_CANCELED' : p.resultCode,
    paymentResultMessage: p.resultMessage,
    ...(transactions.length > 0 ? { transactions } : {}),
  });
  if (p.status === 'PROCESSING' && p.pending?.inquiriesLeft !== undefined) {
    p.pending.inquiriesLeft -= 1;
    if (p.pending.inquiriesLeft <= 0) resolvePending(ctx, p);
    ctx.store.save();
  }
  return answer;
}

/**
 * cancel: full cancellation only, inside the cancel window of antom-rules.ts (DANA never,
 * AlipayHK until 00:15 UTC+8 on T+1 of the order). A cancelled paid payment returns the money.
 * Repeating a successful cancel answers S again (retry-safe). A failed or partly refunded
 * payment answers ORDER_STATUS_INVALID.
 */
export function cancel(ctx: SandboxContext, body: z.infer<typeof PaymentLookup>): AntomBody {
  const p = ctx.store.payment(body);
  if (!p) return fail('ORDER_NOT_EXIST', 'the payment does not exist');
  const ids = { paymentId: p.paymentId, paymentRequestId: p.paymentRequestId };
  const now = ctx.clock.now();
  if (p.status === 'CANCELLED') return ok({ ...ids, cancelTime: isoWithOffset(p.cancelledAt ?? now) });
  const window = checkCancelWindow(p.wallet, p.createdAt, now);
  if (!window.ok) return fail(window.code, window.message, ids);
  if (p.status === 'FAIL') return fail('ORDER_STATUS_INVALID', 'the payment failed; there is nothing to cancel', ids);
  if (ctx.store.state.refunds.some((r) => r.paymentId === p.paymentId && r.status === 'SUCCESS')) {
    return fail('ORDER_STATUS_INVALID', 'a refunded payment cannot be cancelled', ids);
  }
  if (p.status === 'SUCCESS') {
    const account = ctx.store.state.accounts.find((a) => a.loginId === p.loginId);
    if (account) account.balance += p.amount;
  }
  p.status = 'CANCELLED';
  p.cancelledAt = now;
  p.pending = undefined;
  ctx.store.save();
  return ok({ ...ids, cancelTime: isoWithOffset(now) });
}
