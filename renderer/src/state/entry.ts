/** The screens the renderer can open on. */
export type View = 'bind' | 'purchase' | 'manage' | 'kiosk';

/** What the host asked the renderer to open (see renderer/README.md, "Entry"). */
export interface Entry {
  view: View | null;
  sku: string | null;
  quantity: number;
}

const VIEWS: readonly View[] = ['bind', 'purchase', 'manage', 'kiosk'];
/** The same shape as shared/ipc SkuSchema; main validates again. */
const SKU = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Reads `?view=bind|purchase|manage|kiosk&sku=…&qty=…` from the page URL. Anything malformed
 * is ignored rather than guessed: an unknown view is null, a bad sku is null, qty is 1–99.
 */
export function parseEntry(search: string): Entry {
  const q = new URLSearchParams(search);
  const view = q.get('view');
  const sku = q.get('sku');
  const qty = Number(q.get('qty') ?? '1');
  return {
    view: VIEWS.find((v) => v === view) ?? null,
    sku: sku !== null && SKU.test(sku) ? sku : null,
    quantity: Number.isInteger(qty) && qty >= 1 && qty <= 99 ? qty : 1,
  };
}
