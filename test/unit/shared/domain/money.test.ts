import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../../shared/domain/errors.ts';
import {
  add,
  compare,
  formatMoney,
  fromAntomAmount,
  money,
  multiply,
  parseMajor,
  subtract,
  sum,
  toAntomAmount,
  toMajorString,
} from '../../../../shared/domain/money.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof DomainError ? e.code : `not a DomainError: ${String(e)}`;
  }
  return undefined;
}

// Intl puts non-breaking spaces into some formats; compare on plain spaces.
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');

describe('money: construction and parsing', () => {
  it('parses major units into integer minor units for both currencies', () => {
    expect(parseMajor('12.50', 'HKD')).toEqual({ currency: 'HKD', minor: 1250 });
    expect(parseMajor('12', 'HKD')).toEqual({ currency: 'HKD', minor: 1200 });
    expect(parseMajor('0.01', 'HKD')).toEqual({ currency: 'HKD', minor: 1 });
    expect(parseMajor('300', 'IDR')).toEqual({ currency: 'IDR', minor: 30000 });
    expect(parseMajor('15000.5', 'IDR')).toEqual({ currency: 'IDR', minor: 1500050 });
  });

  it.each([
    ['negative', '-1.00'],
    ['plus sign', '+1'],
    ['NaN', 'NaN'],
    ['Infinity', 'Infinity'],
    ['exponent', '1e3'],
    ['fraction of a minor unit', '1.001'],
    ['empty', ''],
    ['blank', ' '],
    ['thousands separator', '1,000'],
    ['leading dot', '.5'],
    ['trailing dot', '5.'],
    ['padded', ' 5'],
    ['too many digits', '12345678901234567'],
  ])('rejects %s major input (%j) with INVALID_MONEY', (_label, input) => {
    expect(codeOf(() => parseMajor(input, 'HKD'))).toBe('INVALID_MONEY');
  });

  it('rejects non-string major input', () => {
    expect(codeOf(() => parseMajor(12.5, 'HKD'))).toBe('INVALID_MONEY');
    expect(codeOf(() => parseMajor(null, 'HKD'))).toBe('INVALID_MONEY');
  });

  it.each([
    ['negative', -1],
    ['fractional minor unit', 1.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['unsafe integer', Number.MAX_SAFE_INTEGER + 1],
    ['negative zero', -0],
  ])('money() rejects %s minor units', (_label, minor) => {
    expect(codeOf(() => money(minor, 'HKD'))).toBe('INVALID_MONEY');
  });

  it.each(['USD', 'hkd', '', 'IDRX', 42, undefined])('rejects the unknown currency %j', (currency) => {
    expect(codeOf(() => money(100, currency as 'HKD'))).toBe('UNKNOWN_CURRENCY');
    expect(codeOf(() => parseMajor('1.00', currency))).toBe('UNKNOWN_CURRENCY');
  });

  it('reads and writes Antom wire amounts exactly', () => {
    expect(fromAntomAmount({ currency: 'IDR', value: '30000' })).toEqual({ currency: 'IDR', minor: 30000 });
    expect(toAntomAmount(money(1000, 'HKD'))).toEqual({ currency: 'HKD', value: '1000' });
  });

  it.each([
    ['zero', { currency: 'HKD', value: '0' }, 'INVALID_MONEY'],
    ['leading zero', { currency: 'HKD', value: '0100' }, 'INVALID_MONEY'],
    ['decimal', { currency: 'HKD', value: '10.5' }, 'INVALID_MONEY'],
    ['negative', { currency: 'HKD', value: '-10' }, 'INVALID_MONEY'],
    ['number instead of string', { currency: 'HKD', value: 1000 }, 'INVALID_MONEY'],
    ['17 digits', { currency: 'HKD', value: '12345678901234567' }, 'INVALID_MONEY'],
    ['16 digits above the safe range', { currency: 'HKD', value: '9999999999999999' }, 'INVALID_MONEY'],
    ['unknown currency', { currency: 'USD', value: '100' }, 'UNKNOWN_CURRENCY'],
    ['not an object', '100', 'INVALID_MONEY'],
  ])('rejects the wire amount with %s', (_label, input, code) => {
    expect(codeOf(() => fromAntomAmount(input))).toBe(code);
  });

  it('refuses to send zero to Antom', () => {
    expect(codeOf(() => toAntomAmount(money(0, 'HKD')))).toBe('INVALID_MONEY');
  });

  it('writes major-unit decimal strings for reports', () => {
    expect(toMajorString(money(1, 'HKD'))).toBe('0.01');
    expect(toMajorString(money(1250, 'HKD'))).toBe('12.50');
    expect(toMajorString(money(1_500_000, 'IDR'))).toBe('15000.00');
    expect(toMajorString(money(0, 'IDR'))).toBe('0.00');
  });
});

describe('money: arithmetic without floats', () => {
  it('adds, subtracts, multiplies and sums in minor units', () => {
    // 0.1 + 0.2 in floats is 0.30000000000000004; in minor units it is exact.
    expect(add(money(10, 'HKD'), money(20, 'HKD'))).toEqual(money(30, 'HKD'));
    expect(subtract(money(1000, 'HKD'), money(1, 'HKD'))).toEqual(money(999, 'HKD'));
    expect(multiply(money(1999, 'HKD'), 3)).toEqual(money(5997, 'HKD'));
    expect(sum([money(1, 'IDR'), money(2, 'IDR')], 'IDR')).toEqual(money(3, 'IDR'));
    expect(sum([], 'IDR')).toEqual(money(0, 'IDR'));
    expect(compare(money(1, 'HKD'), money(2, 'HKD'))).toBe(-1);
    expect(compare(money(2, 'HKD'), money(2, 'HKD'))).toBe(0);
  });

  it('refuses to mix currencies', () => {
    expect(codeOf(() => add(money(1, 'HKD'), money(1, 'IDR')))).toBe('CURRENCY_MISMATCH');
    expect(codeOf(() => compare(money(1, 'HKD'), money(1, 'IDR')))).toBe('CURRENCY_MISMATCH');
  });

  it('refuses negative results, overflow and bad quantities', () => {
    expect(codeOf(() => subtract(money(1, 'HKD'), money(2, 'HKD')))).toBe('INVALID_MONEY');
    expect(codeOf(() => add(money(Number.MAX_SAFE_INTEGER, 'HKD'), money(1, 'HKD')))).toBe('INVALID_MONEY');
    expect(codeOf(() => multiply(money(Number.MAX_SAFE_INTEGER, 'HKD'), 2))).toBe('INVALID_MONEY');
    expect(codeOf(() => multiply(money(100, 'HKD'), 1.5))).toBe('INVALID_QUANTITY');
    expect(codeOf(() => multiply(money(100, 'HKD'), -1))).toBe('INVALID_QUANTITY');
  });

  it('returns frozen values', () => {
    expect(Object.isFrozen(money(1, 'HKD'))).toBe(true);
  });
});

describe('money: formatting in the three locales', () => {
  it('shows HKD with two decimals', () => {
    expect(plain(formatMoney(money(1200, 'HKD'), 'en'))).toBe('HK$12.00');
    expect(plain(formatMoney(money(1200, 'HKD'), 'zh-HK'))).toBe('HK$12.00');
    expect(plain(formatMoney(money(123456789, 'HKD'), 'en'))).toBe('HK$1,234,567.89');
    expect(plain(formatMoney(money(1200, 'HKD'), 'id-ID'))).toBe('HK$12,00');
  });

  it('shows IDR without decimals, as Indonesians read it', () => {
    expect(plain(formatMoney(money(1_500_000, 'IDR'), 'id-ID'))).toBe('Rp 15.000');
    expect(plain(formatMoney(money(1_500_000, 'IDR'), 'en'))).toBe('IDR 15,000');
    expect(plain(formatMoney(money(1_000_000_000, 'IDR'), 'id-ID'))).toBe('Rp 10.000.000');
    expect(plain(formatMoney(money(1_500_000, 'IDR'), 'zh-HK'))).toBe('IDR 15,000');
  });

  it('keeps the decimals of a fractional rupiah instead of rounding it away', () => {
    expect(plain(formatMoney(money(1_500_050, 'IDR'), 'id-ID'))).toBe('Rp 15.000,50');
  });

  it('formats amounts beyond float precision exactly', () => {
    // 2^53 - 1 minor units: a float division by 100 would lose the last digit.
    expect(plain(formatMoney(money(Number.MAX_SAFE_INTEGER, 'HKD'), 'en'))).toBe('HK$90,071,992,547,409.91');
  });
});
