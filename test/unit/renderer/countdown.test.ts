import { LOCALES } from '@scan-to-bind/shared/domain';
import { describe, expect, it } from 'vitest';
import { countdown } from '../../../renderer/src/lib/countdown.ts';

// The QR countdown writes its digits without Intl (a page's first Intl.NumberFormat costs
// ~15 ms, on the first QR shown). That is only right while every locale of the app writes
// these numbers exactly as Intl would: this compares them for the whole range a code can show.
describe('countdown', () => {
  it.each(LOCALES)('reads m:ss exactly as Intl writes it in %s', (locale) => {
    const minutes = new Intl.NumberFormat(locale);
    const seconds = new Intl.NumberFormat(locale, { minimumIntegerDigits: 2, useGrouping: false });
    for (let s = 0; s <= 100 * 60; s++) {
      expect(countdown(s)).toBe(`${minutes.format(Math.floor(s / 60))}:${seconds.format(s % 60)}`);
    }
  });

  it('rounds part seconds up and never goes below zero', () => {
    expect(countdown(59.2)).toBe('1:00');
    expect(countdown(0.4)).toBe('0:01');
    expect(countdown(-3)).toBe('0:00');
    expect(countdown(15 * 60)).toBe('15:00');
  });
});
