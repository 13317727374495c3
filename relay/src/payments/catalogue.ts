import { readFileSync } from 'node:fs';
import { type CurrencyCode, DomainError, type Money, multiply, parseMajor } from '@scan-to-bind/shared/domain';
import { type CatalogueFile, catalogueFileSchema } from '../config.ts';

/** An item as offered to one currency. */
export interface CatalogueItem {
  sku: string;
  title: string;
  price: Money;
}

/** Largest quantity of one item in one purchase (INVALID_QUANTITY above it). */
export const MAX_QUANTITY = 99;

/** The relay's price list: the only source of amounts. Loaded once, validated at start. */
export class Catalogue {
  readonly #items: Map<string, { title: string; prices: Partial<Record<CurrencyCode, Money>> }> = new Map();

  constructor(file: CatalogueFile) {
    const parsed = catalogueFileSchema.parse(file);
    for (const item of parsed.items) {
      if (this.#items.has(item.sku)) throw new Error(`duplicate sku ${item.sku} in catalogue`);
      const prices: Partial<Record<CurrencyCode, Money>> = {};
      for (const currency of ['HKD', 'IDR'] as const) {
        const text = item.prices[currency];
        if (text !== undefined) {
          const price = parseMajor(text, currency);
          if (price.minor <= 0) throw new Error(`price of ${item.sku} in ${currency} must be positive`);
          prices[currency] = price;
        }
      }
      this.#items.set(item.sku, { title: item.title, prices });
    }
  }

  /** Reads and validates a catalogue file. */
  static fromFile(path: string): Catalogue {
    return new Catalogue(JSON.parse(readFileSync(path, 'utf8')) as CatalogueFile);
  }

  /** The items that have a price in the currency. */
  list(currency: CurrencyCode): CatalogueItem[] {
    const out: CatalogueItem[] = [];
    for (const [sku, item] of this.#items) {
      const price = item.prices[currency];
      if (price) out.push({ sku, title: item.title, price });
    }
    return out;
  }

  /** The total of `quantity` × the item's price in the currency; typed errors for unknown items. */
  price(sku: string, quantity: number, currency: CurrencyCode): { item: CatalogueItem; total: Money } {
    const item = this.#items.get(sku);
    if (!item) throw new DomainError('UNKNOWN_SKU', sku);
    if (!Number.isSafeInteger(quantity) || quantity < 1 || quantity > MAX_QUANTITY) throw new DomainError('INVALID_QUANTITY');
    const price = item.prices[currency];
    if (!price) throw new DomainError('CURRENCY_MISMATCH', `${sku} has no ${currency} price`);
    return { item: { sku, title: item.title, price }, total: multiply(price, quantity) };
  }
}
