import { z } from 'zod';

/** A customs declaration request (Antom's declare fields), as the admin API (POST /admin/v1/declarations) and the CLI take it. */
export const declareBody = z.strictObject({
  declarationRequestId: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/u),
  purchaseIntentId: z.uuid(),
  declarationAmount: z.strictObject({ currency: z.literal('CNY'), minor: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) }),
  customs: z.strictObject({ customsCode: z.string().min(1).max(128), region: z.literal('CN') }),
  merchantCustomsInfo: z.strictObject({ merchantCustomsCode: z.string().min(1).max(128), merchantCustomsName: z.string().min(1).max(256) }),
  splitOrder: z.boolean(),
  subOrderId: z.string().min(1).max(64).optional(),
  buyerCertificate: z
    .strictObject({
      certificateType: z.enum(['ID_CARD', 'PASSPORT']),
      certificateNo: z.string().min(1).max(64),
      holderName: z.strictObject({
        fullName: z.string().min(1).max(128).optional(),
        firstName: z.string().min(1).max(32).optional(),
        middleName: z.string().min(1).max(32).optional(),
        lastName: z.string().min(1).max(32).optional(),
      }),
    })
    .optional(),
});

/** A declaration request (admin API / CLI). */
export type DeclareRequest = z.infer<typeof declareBody>;
