import { type ErrorCode, errorMessage, formatMoney, type Locale, type MessageParams, type Money } from '@scan-to-bind/shared/domain';
import { type MessageKey, type Messages, en } from '../i18n/en.ts';
import { idID } from '../i18n/id-ID.ts';
import { zhHK } from '../i18n/zh-HK.ts';

const CATALOGUES: Readonly<Record<Locale, Messages>> = { en, 'zh-HK': zhHK, 'id-ID': idID };

/** The language switch shows each language in its own name and script. */
export const LANGUAGE_NAMES: Readonly<Record<Locale, string>> = {
  en: 'English',
  'zh-HK': '繁體中文（香港）',
  'id-ID': 'Bahasa Indonesia',
};

/**
 * The current locale and everything that turns data into text: catalogue messages, error
 * messages (shared/domain), money (shared/domain formatMoney) and numbers (Intl).
 */
export class I18n {
  locale = $state<Locale>('en');

  /** A catalogue message with `{name}` placeholders filled in. */
  t(key: MessageKey, params: Readonly<Record<string, string | number>> = {}): string {
    return CATALOGUES[this.locale][key].replace(/\{(\w+)\}/g, (whole, name: string) => {
      const v = params[name];
      return v === undefined ? whole : typeof v === 'number' ? this.number(v) : v;
    });
  }

  /** The shared error text of a code in the current locale. */
  error(code: ErrorCode, params: MessageParams = {}): string {
    return errorMessage(code, this.locale, params);
  }

  money(m: Money): string {
    return formatMoney(m, this.locale);
  }

  number(n: number): string {
    return new Intl.NumberFormat(this.locale).format(n);
  }

  /** A number of seconds spelled the locale's way ("25 seconds", "25 秒", "25 detik"). */
  seconds(n: number): string {
    return new Intl.NumberFormat(this.locale, { style: 'unit', unit: 'second', unitDisplay: 'long' }).format(n);
  }

  /** A list joined the locale's way ("AlipayHK or DANA"). */
  or(items: readonly string[]): string {
    return new Intl.ListFormat(this.locale, { type: 'disjunction' }).format(items);
  }
}

/** The one i18n instance of the renderer. */
export const i18n = new I18n();
