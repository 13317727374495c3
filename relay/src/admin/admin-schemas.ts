import { RefundRequestIdSchema } from '@scan-to-bind/shared/relay-api';
import { z } from 'zod';

/*
 * Strict schemas of the admin API (also the source of its OpenAPI document). Amounts are
 * integer minor units with their currency, like everywhere in the relay.
 */

const limit = z
  .string()
  .regex(/^\d{1,3}$/u)
  .optional();

/** GET /admin/v1/payments */
export const paymentsQuery = z.strictObject({
  q: z.string().min(1).max(128).optional(),
  state: z.enum(['CREATED', 'SUBMITTED', 'PROCESSING', 'SUCCEEDED', 'FAILED', 'CANCELLED']).optional(),
  owner: z.string().min(1).max(200).optional(),
  limit,
});
/** GET /admin/v1/bindings */
export const bindingsQuery = z.strictObject({
  q: z.string().min(1).max(128).optional(),
  state: z
    .string()
    .regex(/^[A-Z_]{1,32}$/u)
    .optional(),
  owner: z.string().min(1).max(200).optional(),
  limit,
});
/** GET /admin/v1/refunds */
export const refundsQuery = z.strictObject({
  purchaseIntentId: z.uuid().optional(),
  state: z.enum(['PENDING', 'PROCESSING', 'SUCCEEDED', 'FAILED']).optional(),
  limit,
});
/** GET /admin/v1/deliveries */
export const deliveriesQuery = z.strictObject({
  purchaseIntentId: z.uuid().optional(),
  state: z.enum(['PENDING', 'DELIVERED', 'LOCAL']).optional(),
  limit,
});
/** GET /admin/v1/declarations */
export const declarationsQuery = z.strictObject({ purchaseIntentId: z.uuid().optional(), limit });

/** A money amount in minor units. */
export const moneyBody = z.strictObject({ currency: z.enum(['HKD', 'IDR']), minor: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) });

/** POST /admin/v1/refunds — `amount` absent refunds everything not yet refunded. */
export const refundBody = z.strictObject({
  refundRequestId: RefundRequestIdSchema,
  purchaseIntentId: z.uuid(),
  amount: moneyBody.optional(),
  reason: z.string().min(1).max(256).optional(),
});

/** POST /admin/v1/declarations (Antom's declare fields): owned by the declarations module, which takes it as its request. */
export { declareBody } from '../declarations/declare-request.ts';

/** POST /admin/v1/declarations/inquiry (Antom's limit: 1 to 10 ids of at most 32 characters). */
export const declarationInquiryBody = z.strictObject({
  declarationRequestIds: z
    .array(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/u))
    .min(1)
    .max(10),
});

/** POST /admin/v1/devices — mints a one-time enrolment code. */
export const enrolDeviceBody = z.strictObject({ label: z.string().min(1).max(64), kind: z.enum(['kiosk', 'launcher']) });

/** `:id` of a device or binding. */
export const adminIdParams = z.strictObject({ id: z.uuid() });
/** `:intentId` of a purchase. */
export const adminIntentParams = z.strictObject({ intentId: z.uuid() });
/** `:refundRequestId` of a refund. */
export const refundParams = z.strictObject({ refundRequestId: RefundRequestIdSchema });
/** `:eventId` of a fulfilment delivery. */
export const eventParams = z.strictObject({ eventId: z.uuid() });
/** Bodies of admin actions that carry nothing. */
export const adminEmptyBody = z.union([z.undefined(), z.strictObject({})]);
/** Queries of admin endpoints that take none. */
export const adminNoQuery = z.strictObject({});
