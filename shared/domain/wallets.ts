/**
 * The wallets this product links through Antom's Scan to Bind, with the rules the payment
 * rails impose on them: Antom's amount format, cancel window, refund rules and per-wallet
 * product facts (minimum, caps, refund period).
 *
 * Amounts are integers of minor units as Antom counts them: HKD and IDR both have two
 * decimals at Antom (ISO 4217; whether a contract wants whole rupiah was an open question, and
 * the code follows Antom's published two decimals), so 300 IDR is 30000 minor units.
 */

/** Antom's `customerBelongsTo` / `paymentMethodType` value of a supported wallet. */
export type WalletId = 'ALIPAY_HK' | 'DANA';

/** ISO 4217 codes this product handles. */
export type CurrencyCode = 'HKD' | 'IDR';

/** The caps the product enforces before calling Antom, in minor units. */
export interface WalletCaps {
  /** Smallest payment and refund Antom accepts for the wallet. */
  readonly minPerTransaction: number;
  readonly maxPerTransaction: number;
  /** Per wallet-local calendar day; absent when the wallet has no daily cap. */
  readonly maxPerDay?: number;
  /** Per wallet-local calendar year; absent when the wallet has no yearly cap. */
  readonly maxPerYear?: number;
}

/** When a paid or pending payment may still be cancelled (Antom's cancel window). */
export type CancelRule =
  | { readonly kind: 'never' }
  /** Until hh:mm wall-clock time, in the wallet's zone, of the day after the payment. */
  | { readonly kind: 'untilNextDay'; readonly hour: number; readonly minute: number };

/** Everything the relay, the sandbox and the UI need to know about one wallet. */
export interface WalletInfo {
  readonly id: WalletId;
  /** The brand as shown to players; identical in every language. */
  readonly displayName: string;
  /** ISO 3166-1 alpha-2 region the wallet serves. */
  readonly country: 'HK' | 'ID';
  readonly currency: CurrencyCode;
  /** Offset of the wallet's home time zone from UTC in minutes (neither zone has DST). */
  readonly utcOffsetMinutes: number;
  readonly caps: WalletCaps;
  readonly refundWindowDays: number;
  readonly partialRefund: boolean;
  readonly cancel: CancelRule;
}

const HKD_MINOR = 100;
const IDR_MINOR = 100;

/**
 * The registry. DANA's 10,000,000 IDR per-transaction cap is the product's own (Antom's
 * DANA page publishes daily and monthly caps only, no per-transaction one); lower daily caps of unverified DANA accounts are
 * wallet-side and live in the sandbox's accounts, not here.
 */
export const WALLETS: Readonly<Record<WalletId, WalletInfo>> = Object.freeze({
  ALIPAY_HK: Object.freeze({
    id: 'ALIPAY_HK',
    displayName: 'AlipayHK',
    country: 'HK',
    currency: 'HKD',
    utcOffsetMinutes: 8 * 60,
    caps: Object.freeze({
      minPerTransaction: 1,
      maxPerTransaction: 50_000 * HKD_MINOR,
      maxPerYear: 200_000 * HKD_MINOR,
    }),
    refundWindowDays: 365,
    partialRefund: true,
    // Antom's cancel window: paid AlipayHK debits can be cancelled until 00:15 UTC+8 on T+1.
    cancel: Object.freeze({ kind: 'untilNextDay', hour: 0, minute: 15 }),
  }),
  DANA: Object.freeze({
    id: 'DANA',
    displayName: 'DANA',
    country: 'ID',
    currency: 'IDR',
    utcOffsetMinutes: 7 * 60,
    caps: Object.freeze({
      minPerTransaction: 300 * IDR_MINOR,
      maxPerTransaction: 10_000_000 * IDR_MINOR,
      maxPerDay: 20_000_000 * IDR_MINOR,
    }),
    refundWindowDays: 365,
    partialRefund: true,
    // Antom's cancel window: Indonesia-based methods cannot be cancelled at all.
    cancel: Object.freeze({ kind: 'never' }),
  }),
});

/** Every supported wallet id, in display order. */
export const WALLET_IDS: readonly WalletId[] = Object.freeze(['ALIPAY_HK', 'DANA']);

/** Narrows an untrusted value to a wallet id. */
export function isWalletId(value: unknown): value is WalletId {
  return typeof value === 'string' && Object.hasOwn(WALLETS, value);
}

/** The wallet entry; throws on an unknown id so a typo cannot pass silently. */
export function walletInfo(id: WalletId): WalletInfo {
  const info = isWalletId(id) ? WALLETS[id] : undefined;
  if (!info) throw new RangeError(`unknown wallet ${String(id)}`);
  return info;
}

/** The wallets a player in the given region or currency can link (both filters optional). */
export function walletsFor(filter: { country?: string; currency?: string } = {}): WalletInfo[] {
  return WALLET_IDS.map((id) => WALLETS[id]).filter(
    (w) => (filter.country === undefined || w.country === filter.country) && (filter.currency === undefined || w.currency === filter.currency),
  );
}
