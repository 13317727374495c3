import { describe, expect, it } from 'vitest';
import { DomainError, ERROR_CODES, ERROR_MESSAGES, errorMessage, isErrorCode } from '../../../../shared/domain/errors.ts';
import { isLocale, LOCALES, resolveLocale } from '../../../../shared/domain/locale.ts';

describe('error vocabulary', () => {
  it('has a message for every code in every locale, and nothing else', () => {
    for (const locale of LOCALES) {
      expect(Object.keys(ERROR_MESSAGES[locale]).sort()).toEqual([...ERROR_CODES].sort());
      for (const code of ERROR_CODES) expect(ERROR_MESSAGES[locale][code].trim().length).toBeGreaterThanOrEqual(4);
    }
  });

  it('has unique codes', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
  });

  it('never shows a raw code or an unfilled placeholder', () => {
    for (const locale of LOCALES) {
      for (const code of ERROR_CODES) {
        const text = errorMessage(code, locale, { wallet: 'DANA', limit: 'Rp 20.000.000' });
        expect(text).not.toMatch(/[{}]/);
        expect(text).not.toContain(code);
        const bare = errorMessage(code, locale);
        expect(bare).not.toMatch(/[{}]/);
      }
    }
  });

  it('says what happened and what to do, with the wallet named', () => {
    expect(errorMessage('INSUFFICIENT_BALANCE', 'en', { wallet: 'DANA' })).toBe('Your DANA balance is too low. Top up in the DANA app, then try again.');
    expect(errorMessage('ABOVE_DAILY', 'id-ID', { wallet: 'DANA', limit: 'Rp 20.000.000' })).toContain('Rp 20.000.000');
  });

  it('writes zh-HK in Traditional characters, not Simplified', () => {
    const all = ERROR_CODES.map((c) => ERROR_MESSAGES['zh-HK'][c]).join('');
    // Characters that exist only in Simplified form (their Traditional forms are 錢 額 過 請 連 結 碼 試 裝 置 時 間 戶 …).
    const simplifiedOnly = /[钱额过请连结码试装时间户账单为这发现网络说没问题无应]/u;
    expect(all).not.toMatch(simplifiedOnly);
    expect(all).toMatch(/[請錢額過連結碼]/u);
  });

  it('recognises codes and carries them on DomainError', () => {
    expect(isErrorCode('INSUFFICIENT_BALANCE')).toBe(true);
    expect(isErrorCode('insufficient_balance')).toBe(false);
    const e = new DomainError('QR_EXPIRED', 'code c1');
    expect(e.code).toBe('QR_EXPIRED');
    expect(e).toBeInstanceOf(Error);
  });
});

describe('locale resolution', () => {
  it.each([
    ['en-US', 'en'],
    ['en', 'en'],
    ['zh-HK', 'zh-HK'],
    ['zh-MO', 'zh-HK'],
    ['zh-Hant', 'zh-HK'],
    ['zh-Hant-TW', 'zh-HK'],
    ['zh_HK', 'zh-HK'],
    ['zh-CN', 'en'],
    ['zh-Hans-HK', 'en'],
    ['zh', 'en'],
    ['id', 'id-ID'],
    ['id-ID', 'id-ID'],
    ['in-ID', 'id-ID'],
    ['fr-FR', 'en'],
    ['', 'en'],
    [undefined, 'en'],
  ])('%s → %s', (tag, expected) => {
    expect(resolveLocale(tag)).toBe(expected);
  });

  it('accepts only exact supported tags as settings', () => {
    expect(LOCALES.every(isLocale)).toBe(true);
    expect(isLocale('zh-TW')).toBe(false);
    expect(isLocale('id')).toBe(false);
  });
});
