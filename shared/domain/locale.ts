/** The languages the product speaks. zh-HK is Traditional Chinese; there is no Simplified. */
export type Locale = 'en' | 'zh-HK' | 'id-ID';

/** Every supported locale, in the order the language switch shows them. */
export const LOCALES: readonly Locale[] = Object.freeze(['en', 'zh-HK', 'id-ID']);

/** Narrows an untrusted value to a supported locale tag (exact match). */
export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/**
 * Picks the locale for a BCP 47 tag from the OS or a setting. Hong Kong, Macau, Taiwan and any
 * Traditional-script Chinese fall back to zh-HK; Simplified Chinese has no catalogue of ours and
 * must never be shown Traditional by accident either, so it falls back to English; any
 * Indonesian tag gives id-ID; everything else English.
 */
export function resolveLocale(tag: string | undefined | null): Locale {
  if (typeof tag !== 'string') return 'en';
  const parts = tag.trim().replace(/_/g, '-').toLowerCase().split('-');
  const [lang, ...rest] = parts;
  if (lang === 'id' || lang === 'in') return 'id-ID';
  if (lang === 'zh') {
    if (rest.includes('hans') || rest.includes('cn') || rest.includes('sg')) return 'en';
    if (rest.includes('hant') || rest.includes('hk') || rest.includes('mo') || rest.includes('tw')) {
      return 'zh-HK';
    }
    return 'en';
  }
  return 'en';
}
