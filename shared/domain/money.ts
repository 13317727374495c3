import { DomainError } from './errors.ts';
import type { Locale } from './locale.ts';
import type { CurrencyCode } from './wallets.ts';

/**
 * An amount of money: an integer count of minor units and its ISO 4217 currency. Never a
 * float; every operation checks that the result is still a safe integer.
 */
export interface Money {
  readonly currency: CurrencyCode;
  /** Minor units as Antom counts them (HKD and IDR: hundredths). Non-negative safe integer. */
  readonly minor: number;
}

/** The wire form of Antom's `Amount`: minor units as a decimal string. */
export interface AntomAmount {
  readonly currency: string;
  readonly value: string;
}

interface CurrencyRule {
  /** Decimal places of the minor unit at Antom. */
  readonly minorDigits: number;
  /** Decimal places shown on screen when the amount is whole (IDR: none, as Indonesians read it). */
  readonly displayDigits: number;
}

const CURRENCIES: Readonly<Record<CurrencyCode, CurrencyRule>> = Object.freeze({
  HKD: Object.freeze({ minorDigits: 2, displayDigits: 2 }),
  IDR: Object.freeze({ minorDigits: 2, displayDigits: 0 }),
});

/** Narrows an untrusted value to a supported currency code. */
export function isCurrencyCode(value: unknown): value is CurrencyCode {
  return typeof value === 'string' && Object.hasOwn(CURRENCIES, value);
}

/** Number of decimals of the currency's minor unit at Antom. */
export function minorDigits(currency: CurrencyCode): number {
  return CURRENCIES[currency].minorDigits;
}

function requireCurrency(currency: unknown): CurrencyCode {
  if (!isCurrencyCode(currency)) throw new DomainError('UNKNOWN_CURRENCY', String(currency).slice(0, 16));
  return currency;
}

function requireMinor(minor: unknown): number {
  if (typeof minor !== 'number' || !Number.isSafeInteger(minor) || minor < 0 || Object.is(minor, -0)) {
    throw new DomainError('INVALID_MONEY', `minor units must be a non-negative safe integer, got ${String(minor)}`);
  }
  return minor;
}

/** Builds money from minor units; rejects unknown currencies, negatives, fractions, NaN and unsafe integers. */
export function money(minor: number, currency: CurrencyCode): Money {
  return Object.freeze({ currency: requireCurrency(currency), minor: requireMinor(minor) });
}

/** Zero in a currency. */
export function zero(currency: CurrencyCode): Money {
  return money(0, currency);
}

/**
 * Parses an amount typed or configured in major units ("12.50" HKD → 1250 minor). Accepts
 * plain digits with at most the currency's decimals; rejects signs, exponents, separators,
 * blanks and more decimals than the minor unit has (a fraction of a minor unit).
 */
export function parseMajor(text: unknown, currency: unknown): Money {
  const code = requireCurrency(currency);
  if (typeof text !== 'string') throw new DomainError('INVALID_MONEY', 'amount must be text');
  const digits = CURRENCIES[code].minorDigits;
  const match = /^(\d{1,16})(?:\.(\d+))?$/.exec(text);
  if (!match) throw new DomainError('INVALID_MONEY', `not a plain decimal amount: ${text.slice(0, 32)}`);
  const [, whole = '', fraction = ''] = match;
  if (fraction.length > digits) {
    throw new DomainError('INVALID_MONEY', `${code} has ${digits} decimals, got ${fraction.length}`);
  }
  const minor = Number(whole + fraction.padEnd(digits, '0'));
  return money(minor, code);
}

/**
 * Parses Antom's wire `Amount` ({currency, value} with value a positive integer string of at
 * most 16 digits). Zero, leading zeros, signs and decimals are rejected.
 */
export function fromAntomAmount(amount: unknown): Money {
  if (typeof amount !== 'object' || amount === null) throw new DomainError('INVALID_MONEY', 'amount must be an object');
  const { currency, value } = amount as Record<string, unknown>;
  const code = requireCurrency(currency);
  if (typeof value !== 'string' || !/^[1-9]\d{0,15}$/.test(value)) {
    throw new DomainError('INVALID_MONEY', 'value must be a positive integer string of at most 16 digits');
  }
  return money(Number(value), code);
}

/** The wire form Antom expects; zero is refused because Antom only takes positive amounts. */
export function toAntomAmount(m: Money): AntomAmount {
  if (m.minor <= 0) throw new DomainError('INVALID_MONEY', 'Antom amounts must be positive');
  return { currency: m.currency, value: String(m.minor) };
}

/** The amount in major units as an exact decimal string ("12.50"), as Antom's reports write it. */
export function toMajorString(m: Money): string {
  const digits = CURRENCIES[m.currency].minorDigits;
  if (digits === 0) return String(m.minor);
  const s = String(m.minor).padStart(digits + 1, '0');
  return `${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

function sameCurrency(a: Money, b: Money): CurrencyCode {
  if (a.currency !== b.currency) throw new DomainError('CURRENCY_MISMATCH', `${a.currency} vs ${b.currency}`);
  return a.currency;
}

/** a + b in the same currency. */
export function add(a: Money, b: Money): Money {
  return money(a.minor + b.minor, sameCurrency(a, b));
}

/** a − b in the same currency; a negative result is refused. */
export function subtract(a: Money, b: Money): Money {
  const currency = sameCurrency(a, b);
  if (b.minor > a.minor) throw new DomainError('INVALID_MONEY', 'result would be negative');
  return money(a.minor - b.minor, currency);
}

/** A unit price times a whole quantity. */
export function multiply(unit: Money, quantity: number): Money {
  if (!Number.isSafeInteger(quantity) || quantity < 0) throw new DomainError('INVALID_QUANTITY', String(quantity));
  return money(unit.minor * quantity, unit.currency);
}

/** Sum of amounts of one currency (zero of `currency` when empty). */
export function sum(amounts: readonly Money[], currency: CurrencyCode): Money {
  return amounts.reduce((acc, m) => add(acc, m), zero(currency));
}

/** −1, 0 or 1 as a is less than, equal to or greater than b (same currency only). */
export function compare(a: Money, b: Money): -1 | 0 | 1 {
  sameCurrency(a, b);
  return a.minor < b.minor ? -1 : a.minor > b.minor ? 1 : 0;
}

/** True when both amounts have the same currency and value. */
export function equals(a: Money, b: Money): boolean {
  return a.currency === b.currency && a.minor === b.minor;
}

const formatters = new Map<string, Intl.NumberFormat>();

function formatter(locale: Locale, currency: CurrencyCode, fractionDigits: number): Intl.NumberFormat {
  const key = `${locale}|${currency}|${fractionDigits}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, {
      style: 'currency',
      currency,
      currencyDisplay: 'symbol',
      minimumFractionDigits: fractionDigits,
      maximumFractionDigits: fractionDigits,
    });
    formatters.set(key, f);
  }
  return f;
}

/**
 * Money for the screen, through Intl: HKD with two decimals (HK$12.00), IDR without decimals
 * (Rp 15.000 in id-ID). An IDR amount with a fraction of a rupiah keeps its decimals rather
 * than being rounded, so the screen never shows a different amount from the one charged.
 */
export function formatMoney(m: Money, locale: Locale): string {
  const rule = CURRENCIES[m.currency];
  const hasFraction = rule.minorDigits > 0 && m.minor % 10 ** rule.minorDigits !== 0;
  const digits = hasFraction ? rule.minorDigits : rule.displayDigits;
  // Format the exact decimal string, never a float.
  const decimal = toMajorString(m) as `${number}`;
  return formatter(locale, m.currency, digits).format(decimal);
}
