import type { WalletId } from '@scan-to-bind/shared/domain';
import { isoWithOffset } from '../core/clock.ts';
import type { SandboxContext } from '../core/context.ts';
import type { Account, PaymentRecord } from '../core/state.ts';
import { checkDebitLimits, type PastDebit } from './antom-rules.ts';
import { tokenProblem } from './authorizations.ts';

/** Scan to Link debits expire one minute after the request by default (Antom's Scan to Link rule). */
export const PAYMENT_EXPIRY_MS = 60_000;

/** The outcome of the business rules for one debit. */
export type Evaluation = { ok: true; account: Account } | { ok: false; code: string; message: string };

/**
 * The rules a debit must pass, in Antom's order: token, account, the wallet's payment limits
 * (antom-rules.ts: currency, minimum, per transaction, the user's windows), balance.
 */
export function evaluateDebit(ctx: SandboxContext, wallet: WalletId, accessToken: string, currency: string, amount: number): Evaluation {
  const problem = tokenProblem(ctx, accessToken, wallet);
  if (problem) return { ok: false, code: 'INVALID_ACCESS_TOKEN', message: problem };
  const token = ctx.store.state.tokens.find((t) => t.accessToken === accessToken);
  const account = ctx.store.state.accounts.find((a) => a.loginId === token?.loginId);
  if (!account) return { ok: false, code: 'USER_NOT_EXIST', message: 'the wallet account does not exist' };
  // The account's successful debits, the records themselves (no copy of each: this runs on
  // every pay, over the account's whole history).
  const history: PastDebit[] = [];
  for (const p of ctx.store.paymentsOf(account.loginId)) if (p.status === 'SUCCESS' && p.paidAt !== undefined) history.push(p as PastDebit);
  const limits = checkDebitLimits({ wallet, tier: account.tier, currency, amount, now: ctx.clock.now(), history });
  if (!limits.ok) return limits;
  if (account.balance < amount) return { ok: false, code: 'USER_BALANCE_NOT_ENOUGH', message: 'the user balance is not enough' };
  return { ok: true, account };
}

/** Runs the rules and settles the payment as SUCCESS (debiting the account) or FAIL. */
export function settle(ctx: SandboxContext, p: PaymentRecord): void {
  const result = evaluateDebit(ctx, p.wallet, p.accessToken, p.currency, p.amount);
  const now = ctx.clock.now();
  p.pending = undefined;
  if (result.ok) {
    result.account.balance -= p.amount;
    p.loginId = result.account.loginId;
    p.status = 'SUCCESS';
    p.resultCode = 'SUCCESS';
    p.resultMessage = 'success';
    p.paidAt = now;
  } else {
    p.status = 'FAIL';
    p.resultCode = result.code;
    p.resultMessage = result.message;
  }
  ctx.store.save();
}

/** Sends notifyPayment with the payment's final result (PAYMENT_RESULT, S or F). */
export function notifyPaymentResult(ctx: SandboxContext, p: PaymentRecord): void {
  ctx.notifier.enqueue('notifyPayment', p.paymentNotifyUrl, {
    notifyType: 'PAYMENT_RESULT',
    result: { resultCode: p.resultCode, resultStatus: p.status === 'SUCCESS' ? 'S' : 'F', resultMessage: p.resultMessage },
    ...paymentFields(ctx, p),
  });
}

/** Fields shared by pay responses, inquiries and notifications. */
export function paymentFields(ctx: SandboxContext, p: PaymentRecord): Record<string, unknown> {
  const account = ctx.store.state.accounts.find((a) => a.loginId === p.loginId);
  return {
    paymentRequestId: p.paymentRequestId,
    paymentId: p.paymentId,
    paymentAmount: { currency: p.currency, value: String(p.amount) },
    paymentCreateTime: isoWithOffset(p.createdAt),
    ...(p.paidAt !== undefined ? { paymentTime: isoWithOffset(p.paidAt) } : {}),
    paymentMethodType: p.wallet,
    ...(account ? { pspCustomerInfo: { pspName: p.wallet, pspCustomerId: account.userId } } : {}),
  };
}

/** Resolves a U payment now (its fault said S or F). */
export function resolvePending(ctx: SandboxContext, p: PaymentRecord): void {
  if (p.status !== 'PROCESSING' || !p.pending || p.pending.resolveAs === 'never') return;
  if (p.pending.resolveAs === 'F') {
    p.status = 'FAIL';
    p.resultCode = p.pending.failCode;
    p.resultMessage = 'the payment failed';
    p.pending = undefined;
    ctx.store.save();
  } else settle(ctx, p);
  notifyPaymentResult(ctx, p);
}

/**
 * Moves time-driven payment states on: U payments whose resolution time came, and payments
 * still PROCESSING past their expiry, which close as FAIL / ORDER_IS_CLOSED (a Scan to
 * Link payment expires a minute after the request; the code is the sandbox's choice, the pay
 * code table has no expiry row).
 */
export function sweepPayments(ctx: SandboxContext): void {
  const now = ctx.clock.now();
  for (const p of ctx.store.state.payments) {
    if (p.status !== 'PROCESSING') continue;
    if (p.pending?.resolveAt !== undefined && p.pending.resolveAt <= now && p.pending.resolveAt < p.expiresAt) resolvePending(ctx, p);
    if (p.status === 'PROCESSING' && p.expiresAt <= now) {
      p.status = 'FAIL';
      p.resultCode = 'ORDER_IS_CLOSED';
      p.resultMessage = 'the payment expired before it was completed';
      p.pending = undefined;
      ctx.store.save();
      notifyPaymentResult(ctx, p);
    }
  }
}
