import { WALLET_IDS } from '@scan-to-bind/shared/domain';
import { z } from 'zod';

/*
 * Strict schemas for everything a device sends: unknown fields are an error (never dropped),
 * and nothing is coerced — a quantity of "1" or an amount of any kind is refused.
 */

const uuid = z.uuid();

/** POST /v1/devices/enroll */
export const enrollBody = z.strictObject({
  code: z.string().min(4).max(64),
  label: z.string().min(1).max(64).optional(),
});

/** A kiosk's visit id: a random UUID the kiosk client picks per visitor (kiosks only). */
const visitId = uuid;

/** POST /v1/bindings (`visitId`: kiosks, the visit the binding is for) */
export const startBindingBody = z.strictObject({ wallet: z.enum(WALLET_IDS as [string, ...string[]]), visitId: visitId.optional() });

/** POST /v1/kiosk/visits: the kiosk's new visit (a reset rotated it). */
export const kioskVisitBody = z.strictObject({ visitId });

/** GET /v1/bindings/current (`visitId`: kiosks, the visit whose binding is asked for) */
export const currentBindingQuery = z.strictObject({ visitId: visitId.optional() });

/** POST /v1/purchases */
export const purchaseBody = z.strictObject({
  bindingId: uuid,
  sku: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/u),
  quantity: z.number().int().min(1).max(99),
  purchaseIntentId: uuid,
  /** Kiosks: the current visit, which must be the binding's. */
  visitId: visitId.optional(),
});

/** Bodies of action endpoints carry nothing (absent or `{}`). */
export const emptyBody = z.union([z.undefined(), z.strictObject({})]);

/** `:id` path parameters. */
export const idParams = z.strictObject({ id: uuid });
/** `:intentId` path parameters. */
export const intentParams = z.strictObject({ intentId: uuid });

/** GET /v1/catalogue */
export const catalogueQuery = z.strictObject({ currency: z.enum(['HKD', 'IDR']) });
/** GET /v1/purchases */
export const purchasesQuery = z.strictObject({ pending: z.enum(['true', 'false']).optional() });
/** GET /v1/bindings/:id */
export const bindingQuery = z.strictObject({ waitForChange: z.string().regex(/^\d{1,10}$/u).optional() });
/** Queries of endpoints that take none. */
export const noQuery = z.strictObject({});
