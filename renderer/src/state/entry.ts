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
 * Reads what the host asked for. Main (and the embedding API) opens screens with hash routes —
 * `#/`, `#/overlay`, `#/kiosk`, `#/bind`, `#/manage`, `#/purchase/<sku>/<qty>` — and a page may
 * also be opened with `?view=bind|purchase|manage|kiosk&sku=…&qty=…`; a recognised hash route
 * wins. Anything malformed is ignored rather than guessed: an unknown view is null, a bad sku
 * is null, qty is 1–99.
 */
export function parseEntry(search: string, hash = ''): Entry {
  const route = /^#\/(bind|manage|kiosk|overlay|purchase\/([^/]+)\/(\d{1,2}))?$/.exec(hash);
  // `#/` and `#/overlay` give `?view=undefined|overlay`: no view asked for, as they mean.
  if (route) return parseEntry(route[2] ? `?view=purchase&sku=${route[2]}&qty=${route[3]}` : `?view=${route[1]}`);
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
