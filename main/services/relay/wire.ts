import { BINDING_STATES, ERROR_CODES, PURCHASE_STATES, WALLET_IDS } from '@scan-to-bind/shared/domain';
import { z } from 'zod';

/*
 * What the relay sends, read leniently (unknown fields dropped, optional ones defaulted) so a
 * relay that adds fields does not break old clients; everything that reaches the UI is then
 * re-checked by the strict IPC schemas.
 */

const Code = z.enum(ERROR_CODES);
const Wallet = z.enum(WALLET_IDS as ['ALIPAY_HK', 'DANA']);
const Money = z.object({ currency: z.enum(['HKD', 'IDR']), minor: z.int().min(0) });
const OptionalCode = z
  .union([Code, z.object({ code: Code }).transform((e) => e.code), z.string(), z.null()])
  .optional()
  .transform((v) => (typeof v === 'string' && (ERROR_CODES as readonly string[]).includes(v) ? (v as z.infer<typeof Code>) : null));

/** POST /v1/devices/enroll. */
export const EnrollResponse = z.object({
  deviceId: z.string().min(1).max(128),
  deviceSecret: z.string().min(16).max(512),
  kind: z.enum(['launcher', 'kiosk']),
});

/** GET /v1/wallets (an array, or `{wallets: [...]}`). */
export const WalletsResponse = z
  .union([z.array(z.unknown()), z.object({ wallets: z.array(z.unknown()) }).transform((o) => o.wallets)])
  .transform((list) =>
    list.flatMap((w) => {
      if (typeof w === 'string') return Wallet.safeParse(w).success ? [w as z.infer<typeof Wallet>] : [];
      const id = (w as { wallet?: unknown; id?: unknown } | null)?.wallet ?? (w as { id?: unknown } | null)?.id;
      return Wallet.safeParse(id).success ? [id as z.infer<typeof Wallet>] : [];
    }),
  );

/** One catalogue item. */
export const CatalogueItem = z.object({
  sku: z.string().min(1).max(64),
  title: z.string().min(1).max(256),
  price: Money,
});
/** GET /v1/catalogue (an array, or `{items: [...]}`). */
export const CatalogueResponse = z.union([
  z.array(CatalogueItem),
  z.object({ items: z.array(CatalogueItem) }).transform((o) => o.items),
]);

/** A binding as the relay reports it (create, current, by id, refresh, withdraw, revoke). */
export const BindingWire = z.object({
  bindingId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
  state: z.enum(BINDING_STATES),
  wallet: Wallet,
  codeValue: z.string().max(2048).nullish(),
  codeExpiresAt: z.string().nullish(),
  refreshesLeft: z.int().min(0).max(10).nullish(),
  maskedAccount: z.string().max(64).nullish(),
  version: z.int().min(0).optional(),
  error: OptionalCode,
  /** Kiosks: the visit the binding belongs to. */
  visitId: z.uuid().nullish(),
});
/** A binding as the relay reports it. */
export type BindingWire = z.infer<typeof BindingWire>;

/** GET /v1/bindings/current: a binding, or nothing (404 or `{binding: null}`). */
export const CurrentBindingResponse = z.union([
  BindingWire,
  z.object({ binding: BindingWire.nullable() }).transform((o) => o.binding),
  z.null(),
]);

/** POST /v1/kiosk/visits. */
export const KioskVisitResponse = z.object({ visitId: z.uuid(), endedBindings: z.int().min(0).optional() });

/** A purchase as the relay reports it. */
export const PurchaseWire = z.object({
  purchaseIntentId: z.uuid(),
  state: z.enum(PURCHASE_STATES),
  total: Money.optional(),
  sku: z.string().max(64).optional(),
  quantity: z.int().min(1).max(99).optional(),
  error: OptionalCode,
  updatedAt: z.string().optional(),
});
/** A purchase as the relay reports it. */
export type PurchaseWire = z.infer<typeof PurchaseWire>;

/** GET /v1/purchases?pending=true. */
export const PendingPurchasesResponse = z.union([
  z.array(PurchaseWire),
  z.object({ purchases: z.array(PurchaseWire) }).transform((o) => o.purchases),
]);

/** A `binding` or `purchase` Server-Sent Event's data (either the object itself or wrapped). */
export const BindingEventData = z.union([BindingWire, z.object({ binding: BindingWire }).transform((o) => o.binding)]);
export const PurchaseEventData = z.union([PurchaseWire, z.object({ purchase: PurchaseWire }).transform((o) => o.purchase)]);
