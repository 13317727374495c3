import type { CurrencyCode, WalletId } from '@scan-to-bind/shared/domain';
import type { DanaTier } from '../core/state.ts';

/*
 * Antom's business rules for Scan to Link debits, cancels and refunds, written here from the
 * Antom API reference and nowhere else. The relay checks the same things with shared/domain's
 * rules; the sandbox must not borrow them, or a bug there would pass every test because the
 * fake Antom agreed with it (issue #16, point 3). From shared the sandbox takes only types and
 * money helpers, which the import-boundary test enforces.
 *
 * Where the reference leaves a question open, the sandbox takes the reading that is no easier
 * than the real Antom: it may refuse what Antom would accept, never accept what Antom would
 * refuse. Each such choice is marked "stricter reading" below.
 *
 * Amounts are integers of minor units as Antom counts them; HKD and IDR both have two decimals
 * at Antom ("Amounts": 0.01 HKD is "1", 300 IDR is "30000").
 */

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** A rule's answer: go ahead, or Antom's F result code with a message. */
export type RuleVerdict = { ok: true } | { ok: false; code: string; message: string };

const OK: RuleVerdict = Object.freeze({ ok: true });
const refuse = (code: string, message: string): RuleVerdict => ({ ok: false, code, message });

// ---------------------------------------------------------------------------------------------
// Per-wallet payment limits ("Scan to Bind product facts", "Amounts").

/** AlipayHK pays in HKD; DANA in IDR ("Scan to Bind product facts"). */
export const WALLET_CURRENCY: Readonly<Record<WalletId, CurrencyCode>> = Object.freeze({ ALIPAY_HK: 'HKD', DANA: 'IDR' });

/** AlipayHK minimum per payment and per refund: 0.01 HKD ("Amounts"). */
export const ALIPAY_HK_MIN_MINOR = 1;
/** AlipayHK maximum per transaction: 50,000 HKD ("Scan to Bind product facts"). */
export const ALIPAY_HK_MAX_PER_TRANSACTION_MINOR = 50_000_00;
/** AlipayHK maximum per year: 200,000 HKD ("Scan to Bind product facts"). */
export const ALIPAY_HK_MAX_PER_YEAR_MINOR = 200_000_00;

/** DANA minimum per payment and per refund: 300 IDR ("Amounts"). */
export const DANA_MIN_MINOR = 300_00;
/** The minimum per payment and per refund, by wallet. */
const MINIMUM: Readonly<Record<WalletId, number>> = Object.freeze({ ALIPAY_HK: ALIPAY_HK_MIN_MINOR, DANA: DANA_MIN_MINOR });
/**
 * DANA maximum per transaction: 10,000,000 IDR. The reference found this figure only in the
 * product brief, not at Antom (open question 10 on DANA limits). Stricter reading: enforce it.
 */
export const DANA_MAX_PER_TRANSACTION_MINOR = 10_000_000_00;
const MAX_PER_TRANSACTION: Readonly<Record<WalletId, number>> = Object.freeze({
  ALIPAY_HK: ALIPAY_HK_MAX_PER_TRANSACTION_MINOR,
  DANA: DANA_MAX_PER_TRANSACTION_MINOR,
});
/**
 * DANA's caps per account type ("Scan to Bind product facts"): daily 2,000,000 IDR unverified /
 * 20,000,000 IDR DANA Premium; monthly 20,000,000 / 40,000,000 IDR.
 */
export const DANA_TIER_CAPS: Readonly<Record<DanaTier, { daily: number; monthly: number }>> = Object.freeze({
  UNVERIFIED: Object.freeze({ daily: 2_000_000_00, monthly: 20_000_000_00 }),
  PREMIUM: Object.freeze({ daily: 20_000_000_00, monthly: 40_000_000_00 }),
});

/**
 * The user windows. The reference says "per day", "monthly" and "per year" without saying
 * calendar or rolling, nor in which zone. Stricter reading: rolling windows ending at the
 * payment and long enough to contain any calendar reading (a calendar day so far is under
 * 24 hours, a calendar month under 31 days, a calendar year or the 12 months before under
 * 366 days), so the sandbox counts at least what Antom counts under either reading.
 */
export const USER_DAY_WINDOW_MS = DAY_MS;
export const USER_MONTH_WINDOW_MS = 31 * DAY_MS;
export const USER_YEAR_WINDOW_MS = 366 * DAY_MS;

/** One successful debit of the same wallet account: its amount and when it was paid. */
export interface PastDebit {
  readonly amount: number;
  readonly paidAt: number;
}

/** A debit to check against the wallet's limits. */
export interface DebitInput {
  readonly wallet: WalletId;
  /** DANA account type; an untyped DANA account is held to the unverified caps (stricter reading). */
  readonly tier?: DanaTier;
  readonly currency: string;
  readonly amount: number;
  readonly now: number;
  /** The account's successful debits; cancelled ones are not in it (their money went back). */
  readonly history: readonly PastDebit[];
}

/** What the account paid in the rolling window of `ms` ending at `now` (a debit exactly `ms` old has dropped out). */
function paidWithin(history: readonly PastDebit[], now: number, ms: number): number {
  let sum = 0;
  for (const d of history) if (d.paidAt > now - ms && d.paidAt <= now) sum += d.amount;
  return sum;
}

/**
 * The per-wallet payment limits, in this order: currency, minimum, per transaction, then the
 * user's day, month and year. Codes from the pay result table: below the minimum is an illegal
 * amount (PARAM_ILLEGAL); above the method's cap per transaction PAYMENT_AMOUNT_EXCEED_LIMIT;
 * above the user's own limit in a window USER_AMOUNT_EXCEED_LIMIT.
 */
export function checkDebitLimits(d: DebitInput): RuleVerdict {
  const currency = WALLET_CURRENCY[d.wallet];
  if (d.currency !== currency) return refuse('CURRENCY_NOT_SUPPORT', `${d.wallet} only pays in ${currency}`);
  if (d.amount < MINIMUM[d.wallet]) return refuse('PARAM_ILLEGAL', 'paymentAmount: below the minimum of the payment method');
  if (d.amount > MAX_PER_TRANSACTION[d.wallet]) return refuse('PAYMENT_AMOUNT_EXCEED_LIMIT', 'the amount exceeds the payment method limit per transaction');
  const over = (ms: number, cap: number) => paidWithin(d.history, d.now, ms) + d.amount > cap;
  if (d.wallet === 'DANA') {
    const tier = d.tier ?? 'UNVERIFIED';
    const caps = DANA_TIER_CAPS[tier];
    if (over(USER_DAY_WINDOW_MS, caps.daily)) return refuse('USER_AMOUNT_EXCEED_LIMIT', `the amount exceeds the daily limit of a ${tier} account`);
    if (over(USER_MONTH_WINDOW_MS, caps.monthly)) return refuse('USER_AMOUNT_EXCEED_LIMIT', `the amount exceeds the monthly limit of a ${tier} account`);
  } else if (over(USER_YEAR_WINDOW_MS, ALIPAY_HK_MAX_PER_YEAR_MINOR)) {
    return refuse('USER_AMOUNT_EXCEED_LIMIT', "the amount exceeds the user's yearly limit");
  }
  return OK;
}

// ---------------------------------------------------------------------------------------------
// The cancel window ("cancel": rules for Scan to Link).

/** AlipayHK's cancel deadline is read on the UTC+8 clock. */
export const ALIPAY_HK_UTC_OFFSET_MINUTES = 8 * 60;
/** A paid AlipayHK payment can be cancelled until 00:15 (UTC+8) on T+1 ("cancel"). */
export const ALIPAY_HK_CANCEL_UNTIL_MINUTES_AFTER_MIDNIGHT = 15;

/**
 * The instant from which an AlipayHK payment can no longer be cancelled: 00:15 UTC+8 on the
 * day after T. T is taken as the day the order was placed, not the day it was paid (open
 * question 6 on the cancel window wording): an order is placed no later than it is paid, so
 * this deadline is never later. Stricter reading. The deadline itself is already too late.
 */
export function alipayHkCancelDeadline(orderedAt: number): number {
  const offsetMs = ALIPAY_HK_UTC_OFFSET_MINUTES * MINUTE_MS;
  const localMidnight = Math.floor((orderedAt + offsetMs) / DAY_MS) * DAY_MS;
  return localMidnight + DAY_MS + ALIPAY_HK_CANCEL_UNTIL_MINUTES_AFTER_MIDNIGHT * MINUTE_MS - offsetMs;
}

/**
 * Whether a payment can still be cancelled ("cancel"): Indonesia-based methods (DANA) never;
 * AlipayHK until its deadline. Outside the window the answer is CANCEL_WINDOW_EXCEED.
 */
export function checkCancelWindow(wallet: WalletId, orderedAt: number, now: number): RuleVerdict {
  if (wallet === 'DANA') return refuse('CANCEL_WINDOW_EXCEED', 'DANA payments cannot be cancelled');
  if (now >= alipayHkCancelDeadline(orderedAt)) return refuse('CANCEL_WINDOW_EXCEED', 'the cancellation period has passed');
  return OK;
}

// ---------------------------------------------------------------------------------------------
// Refund period and sum ("refund"; "Scan to Bind product facts"; "Amounts").

/** The refund period of AlipayHK and DANA: 365 days. */
export const REFUND_PERIOD_DAYS = 365;
const REFUND_PERIOD_MS = REFUND_PERIOD_DAYS * DAY_MS;

/** A refund to check. */
export interface RefundInput {
  readonly wallet: WalletId;
  readonly currency: string;
  /** The amount of the original payment. */
  readonly paid: number;
  /** When the payment's order was placed. */
  readonly orderedAt: number;
  /** The sum of the payment's successful refunds so far. */
  readonly alreadyRefunded: number;
  readonly requested: number;
  readonly now: number;
}

/**
 * The refund rules, in this order: currency, minimum, period, sum. Full or partial, several
 * refunds while their total stays within what was paid; at least the wallet minimum (so a
 * remainder below the minimum cannot be refunded); within 365 days. The period is counted
 * from the order, not from the payment, and the 365th day is already outside (stricter
 * reading: the reference gives no start instant nor boundary). The refusal codes are the
 * sandbox's reading of Antom's vocabulary: the refund result table was not readable (open
 * question 4 on result-code tables): REFUND_WINDOW_EXCEED and REFUND_AMOUNT_EXCEED.
 */
export function checkRefundRules(r: RefundInput): RuleVerdict {
  if (r.currency !== WALLET_CURRENCY[r.wallet]) return refuse('CURRENCY_NOT_SUPPORT', 'refundAmount.currency differs from the payment currency');
  if (r.requested < MINIMUM[r.wallet]) return refuse('PARAM_ILLEGAL', 'refundAmount: below the minimum of the payment method');
  if (r.now - r.orderedAt >= REFUND_PERIOD_MS) return refuse('REFUND_WINDOW_EXCEED', 'the refund period has passed');
  if (r.alreadyRefunded + r.requested > r.paid) return refuse('REFUND_AMOUNT_EXCEED', 'the total refund amount exceeds the payment amount');
  return OK;
}
