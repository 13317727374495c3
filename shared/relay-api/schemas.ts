import { z } from 'zod';
import {
  BindingStateSchema,
  CurrencySchema,
  ErrorCodeSchema,
  InstantSchema,
  IntentIdSchema,
  ItemTitleSchema,
  MaskedAccountSchema,
  MoneySchema,
  PurchaseStateSchema,
  QrCodeSchema,
  QuantitySchema,
  SkuSchema,
  WalletIdSchema,
} from '../ipc/schemas.ts';

/*
 * The relay ↔ client HTTP contract: one schema per request, answer, Server-Sent Event and the
 * error body. The relay validates requests and serialises answers through these; the client
 * parses answers with them; the relay's OpenAPI document is generated from them.
 *
 * Requests are strict objects: an unknown field is refused, never dropped, and nothing is
 * coerced (a quantity of "1" is an error). Answers and events are plain objects: a client drops
 * a field it does not know, so a newer relay may add fields without breaking older clients; the
 * relay itself never sends an unknown field (relay/src/http/response-contract.ts).
 *
 * Where the relay and the client disagreed before this contract, the stricter correct rule won:
 * ids the relay mints are UUIDs (`bindingId` was "any 8–64 characters" in the client), a SKU
 * starts with a letter or digit (shared SkuSchema; the relay allowed a leading "." or "-"), a
 * binding's error is `{code, message}` (the client also took a bare string), and list answers
 * are objects (`{wallets}`, `{items}`, `{purchases}`), never bare arrays.
 */

/** The shared vocabulary the contract is written in, for the relay's own schemas (its catalogue file). */
export { ItemTitleSchema, MoneySchema, SkuSchema } from '../ipc/schemas.ts';

/** Every id the relay mints (bindings, devices) and every kiosk visit id: a UUID. */
export const RelayIdSchema = z.uuid();

/** A typed error as the relay reports it inside a status or an error body. */
export const RelayErrorInfoSchema = z.object({ code: ErrorCodeSchema, message: z.string().max(512) });

/** The body of every error answer (4xx, 5xx): `{error: {code, message}}`. */
export const ErrorBodySchema = z.object({ error: RelayErrorInfoSchema });
/** The body of every error answer. */
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

// ---- requests -------------------------------------------------------------------------------

/** POST /v1/devices/enroll */
export const EnrollRequestSchema = z.strictObject({
  code: z.string().min(4).max(64),
  label: z.string().min(1).max(64).optional(),
});

/** POST /v1/bindings (`visitId`: kiosks, the visit the binding is for). */
export const StartBindingRequestSchema = z.strictObject({ wallet: WalletIdSchema, visitId: RelayIdSchema.optional() });

/** POST /v1/kiosk/visits: the kiosk's new visit (a reset rotated it). */
export const KioskVisitRequestSchema = z.strictObject({ visitId: RelayIdSchema });

/** GET /v1/bindings/current (`visitId`: kiosks, the visit whose binding is asked for). */
export const CurrentBindingQuerySchema = z.strictObject({ visitId: RelayIdSchema.optional() });

/** POST /v1/purchases (idempotent on `purchaseIntentId`; kiosks name the current visit). */
export const PurchaseRequestSchema = z.strictObject({
  bindingId: RelayIdSchema,
  sku: SkuSchema,
  quantity: QuantitySchema,
  purchaseIntentId: IntentIdSchema,
  /** Kiosks: the current visit, which must be the binding's. */
  visitId: RelayIdSchema.optional(),
});
/** The body of POST /v1/purchases. */
export type PurchaseRequest = z.input<typeof PurchaseRequestSchema>;

/** Bodies of action endpoints carry nothing (absent or `{}`). */
export const EmptyBodySchema = z.union([z.undefined(), z.strictObject({})]);

/** `:id` path parameters (a binding). */
export const IdParamsSchema = z.strictObject({ id: RelayIdSchema });
/** `:intentId` path parameters (a purchase). */
export const IntentParamsSchema = z.strictObject({ intentId: IntentIdSchema });

/** GET /v1/catalogue */
export const CatalogueQuerySchema = z.strictObject({ currency: CurrencySchema });
/** GET /v1/purchases */
export const PurchasesQuerySchema = z.strictObject({ pending: z.enum(['true', 'false']).optional() });
/** GET /v1/bindings/:id (long-poll while the version is still `waitForChange`). */
export const BindingQuerySchema = z.strictObject({
  waitForChange: z
    .string()
    .regex(/^\d{1,10}$/u)
    .optional(),
});
/** Queries of endpoints that take none. */
export const NoQuerySchema = z.strictObject({});

// ---- answers --------------------------------------------------------------------------------

/** POST /v1/devices/enroll: the device credential, shown only this once. */
export const EnrollResponseSchema = z.object({
  deviceId: RelayIdSchema,
  deviceSecret: z.string().min(16).max(512),
  kind: z.enum(['launcher', 'kiosk']),
});

/** One wallet the relay offers. */
export const RelayWalletSchema = z.object({
  id: WalletIdSchema,
  displayName: z.string().min(1).max(32),
  currency: CurrencySchema,
  country: z.string().length(2),
});
/** GET /v1/wallets */
export const WalletsResponseSchema = z.object({ wallets: z.array(RelayWalletSchema) });

/** One catalogue item as offered in one currency. */
export const CatalogueItemSchema = z.object({ sku: SkuSchema, title: ItemTitleSchema, price: MoneySchema });
/** One catalogue item as offered in one currency. */
export type CatalogueItem = z.infer<typeof CatalogueItemSchema>;
/** GET /v1/catalogue */
export const CatalogueResponseSchema = z.object({ currency: CurrencySchema, items: z.array(CatalogueItemSchema) });

/**
 * A binding as the relay reports it to the device that owns it (create, current, by id,
 * refresh, withdraw, unlink, admin revoke; the `binding` event). Never a token or a full
 * account id. `codeValue`/`codeExpiresAt` only while a QR is shown.
 */
export const RelayBindingSchema = z.object({
  bindingId: RelayIdSchema,
  state: BindingStateSchema,
  wallet: WalletIdSchema,
  version: z.int().min(0),
  refreshesLeft: QrCodeSchema.shape.refreshesLeft,
  maskedAccount: MaskedAccountSchema.optional(),
  codeValue: QrCodeSchema.shape.codeValue.optional(),
  codeExpiresAt: InstantSchema.optional(),
  error: RelayErrorInfoSchema.optional(),
  /** The kiosk visit the binding belongs to (kiosks only). */
  visitId: RelayIdSchema.optional(),
});
/** A binding as the relay reports it. */
export type RelayBinding = z.infer<typeof RelayBindingSchema>;

/** POST /v1/kiosk/visits */
export const KioskVisitResponseSchema = z.object({ visitId: RelayIdSchema, endedBindings: z.int().min(0) });

/** A purchase as the relay reports it (create, by id, lists; the `purchase` event). */
export const RelayPurchaseSchema = z.object({
  purchaseIntentId: IntentIdSchema,
  state: PurchaseStateSchema,
  version: z.int().min(0),
  bindingId: RelayIdSchema,
  sku: SkuSchema,
  quantity: QuantitySchema,
  total: MoneySchema,
  error: RelayErrorInfoSchema.optional(),
});
/** A purchase as the relay reports it. */
export type RelayPurchase = z.infer<typeof RelayPurchaseSchema>;

/** GET /v1/purchases */
export const PurchasesResponseSchema = z.object({ purchases: z.array(RelayPurchaseSchema) });

/** A merchant's refund request id (the admin picks it; idempotency key of the refund). */
export const RefundRequestIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/u);

/** A refund as the purchasing device and the admin API see it (the `refund` event). */
export const RelayRefundSchema = z.object({
  refundRequestId: RefundRequestIdSchema,
  purchaseIntentId: IntentIdSchema,
  state: z.enum(['PENDING', 'PROCESSING', 'SUCCEEDED', 'FAILED']),
  version: z.int().min(0),
  amount: MoneySchema,
  refundId: z.string().min(1).max(64).optional(),
  refundedAt: InstantSchema.optional(),
  reason: z.string().max(256).optional(),
  error: RelayErrorInfoSchema.optional(),
});
/** A refund as the relay reports it. */
export type RelayRefund = z.infer<typeof RelayRefundSchema>;

/** GET /v1/purchases/:intentId/refunds */
export const RefundsResponseSchema = z.object({ refunds: z.array(RelayRefundSchema) });

// ---- Server-Sent Events (GET /v1/events) ----------------------------------------------------

/** Why the relay ended an event stream (`event: end`). */
export const StreamEndReasonSchema = z.enum(['replaced', 'lifetime', 'disabled', 'assertion-expired', 'shutdown']);
/** Why the relay ended an event stream. */
export type StreamEndReason = z.infer<typeof StreamEndReasonSchema>;

/** The data of each named event of the stream, by event name. */
export const RELAY_EVENTS = {
  binding: RelayBindingSchema,
  purchase: RelayPurchaseSchema,
  refund: RelayRefundSchema,
  end: z.object({ reason: StreamEndReasonSchema }),
} as const;
/** A named event of the stream. */
export type RelayEventName = keyof typeof RELAY_EVENTS;
