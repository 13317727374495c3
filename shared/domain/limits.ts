import type { ErrorCode } from './errors.ts';
import { type Money, money } from './money.ts';
import { type WalletId, walletInfo } from './wallets.ts';

/** Why a payment may not go ahead under the wallet's caps. */
export type LimitReason = Extract<ErrorCode, 'BELOW_MIN' | 'ABOVE_PER_TRANSACTION' | 'ABOVE_DAILY' | 'ABOVE_YEARLY' | 'CURRENCY_MISMATCH'>;

/** The outcome of a limit check; on refusal, the limit that was hit (for the message). */
export type LimitCheck = { ok: true } | { ok: false; reason: LimitReason; limit?: Money };

/** What the player already paid with this wallet in the current windows (successful + in-flight). */
export interface SpentSoFar {
  /** In the wallet-local calendar day of the new payment. */
  readonly today: Money;
  /** In the wallet-local calendar year of the new payment. */
  readonly thisYear: Money;
}

/**
 * Checks one payment against the wallet's minimum, per-transaction, daily and yearly caps.
 * Used by the relay before it calls Antom and by the UI before it offers the Buy button, so
 * both refuse for the same reason. Order: currency, minimum, per transaction, day, year.
 */
export function checkWalletLimits(wallet: WalletId, amount: Money, spent?: SpentSoFar): LimitCheck {
  const info = walletInfo(wallet);
  const cur = info.currency;
  if (amount.currency !== cur) return { ok: false, reason: 'CURRENCY_MISMATCH' };
  if (spent && (spent.today.currency !== cur || spent.thisYear.currency !== cur)) {
    return { ok: false, reason: 'CURRENCY_MISMATCH' };
  }
  const { caps } = info;
  if (amount.minor < caps.minPerTransaction) {
    return { ok: false, reason: 'BELOW_MIN', limit: money(caps.minPerTransaction, cur) };
  }
  if (amount.minor > caps.maxPerTransaction) {
    return { ok: false, reason: 'ABOVE_PER_TRANSACTION', limit: money(caps.maxPerTransaction, cur) };
  }
  if (caps.maxPerDay !== undefined && (spent?.today.minor ?? 0) + amount.minor > caps.maxPerDay) {
    return { ok: false, reason: 'ABOVE_DAILY', limit: money(caps.maxPerDay, cur) };
  }
  if (caps.maxPerYear !== undefined && (spent?.thisYear.minor ?? 0) + amount.minor > caps.maxPerYear) {
    return { ok: false, reason: 'ABOVE_YEARLY', limit: money(caps.maxPerYear, cur) };
  }
  return { ok: true };
}

const DAY_MS = 86_400_000;

/** The wallet-local calendar date of an instant, as YYYY-MM-DD (both zones are fixed offsets). */
export function walletLocalDate(wallet: WalletId, at: Date): string {
  const shifted = new Date(at.getTime() + walletInfo(wallet).utcOffsetMinutes * 60_000);
  return shifted.toISOString().slice(0, 10);
}

/** The instants [start, end) of the wallet-local day, month or year that contains `at`. */
export function walletWindow(wallet: WalletId, at: Date, unit: 'day' | 'month' | 'year'): { start: Date; end: Date } {
  const offsetMs = walletInfo(wallet).utcOffsetMinutes * 60_000;
  const local = new Date(at.getTime() + offsetMs);
  const y = local.getUTCFullYear();
  const m = local.getUTCMonth();
  const d = local.getUTCDate();
  const [startLocal, endLocal] =
    unit === 'day'
      ? [Date.UTC(y, m, d), Date.UTC(y, m, d + 1)]
      : unit === 'month'
        ? [Date.UTC(y, m, 1), Date.UTC(y, m + 1, 1)]
        : [Date.UTC(y, 0, 1), Date.UTC(y + 1, 0, 1)];
  return { start: new Date(startLocal - offsetMs), end: new Date(endLocal - offsetMs) };
}

/**
 * Whether a payment made at `paidAt` may still be cancelled at `now` (Antom's cancel window): DANA never;
 * AlipayHK until 00:15 wallet-local time of the next day.
 */
export function canCancel(wallet: WalletId, paidAt: Date, now: Date): boolean {
  const rule = walletInfo(wallet).cancel;
  if (rule.kind === 'never') return false;
  const { end } = walletWindow(wallet, paidAt, 'day');
  const deadline = end.getTime() + (rule.hour * 60 + rule.minute) * 60_000;
  return now.getTime() < deadline;
}

/** Why a refund may not go ahead. */
export type RefundRefusal = Extract<ErrorCode, 'REFUND_WINDOW_EXCEEDED' | 'REFUND_EXCEEDS_PAID' | 'BELOW_MIN' | 'CURRENCY_MISMATCH'>;

/**
 * Checks a refund: within the wallet's refund window (365 days) of the payment, at least the
 * wallet minimum, and the cumulative refunds never above what was paid.
 */
export function checkRefund(
  wallet: WalletId,
  input: { paid: Money; paidAt: Date; alreadyRefunded: Money; requested: Money; now: Date },
): { ok: true } | { ok: false; reason: RefundRefusal } {
  const info = walletInfo(wallet);
  const { paid, alreadyRefunded, requested } = input;
  if (paid.currency !== info.currency || requested.currency !== paid.currency || alreadyRefunded.currency !== paid.currency) {
    return { ok: false, reason: 'CURRENCY_MISMATCH' };
  }
  if (input.now.getTime() - input.paidAt.getTime() > info.refundWindowDays * DAY_MS) {
    return { ok: false, reason: 'REFUND_WINDOW_EXCEEDED' };
  }
  if (requested.minor < info.caps.minPerTransaction) return { ok: false, reason: 'BELOW_MIN' };
  if (!info.partialRefund && requested.minor !== paid.minor) return { ok: false, reason: 'REFUND_EXCEEDS_PAID' };
  if (alreadyRefunded.minor + requested.minor > paid.minor) return { ok: false, reason: 'REFUND_EXCEEDS_PAID' };
  return { ok: true };
}
