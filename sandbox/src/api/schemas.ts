import { z } from 'zod';

/**
 * Request bodies as Antom validates them: required fields, String types
 * (every non-array field is a JSON string) and maximum lengths. A failure here is
 * PARAM_ILLEGAL and changes nothing. Unknown fields are ignored, as Antom ignores them.
 */

const str = (max: number) => z.string().min(1).max(max);
const optStr = (max: number) => z.string().max(max).optional();

/** An http(s) URL of at most `max` characters (notification targets). */
const httpUrl = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((v) => {
      try {
        const u = new URL(v);
        return u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        return false;
      }
    }, 'must be an http(s) URL');

/**
 * A boolean field: the docs send "true"/"false", the SDKs send JSON booleans (the two
 * disagree, an open question); both are accepted and nothing else.
 */
const flag = z.union([z.boolean(), z.enum(['true', 'false'])]).transform((v) => v === true || v === 'true');

/** Antom's Amount: 3-letter currency, positive integer minor units of at most 16 digits. */
export const Amount = z.object({
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code'),
  value: z.string().regex(/^[1-9]\d{0,15}$/, 'must be a positive integer string of at most 16 digits'),
});

const Env = z.object({
  terminalType: str(32),
  osType: optStr(16),
  osVersion: optStr(16),
  userAgent: optStr(1024),
  clientIp: optStr(64),
  deviceTokenId: optStr(64),
  deviceId: optStr(64),
  deviceLanguage: optStr(32),
});

/** consult (Antom: Scan to Bind, step 1). */
export const ConsultRequest = z.object({
  customerBelongsTo: str(64),
  authRedirectUrl: httpUrl(1024),
  scopes: z.array(str(64)).min(1).max(4),
  authState: str(256),
  env: Env,
  terminalType: optStr(32),
  osType: optStr(16),
  osVersion: optStr(16),
  authNotifyUrl: httpUrl(1024).optional(),
  authClientId: optStr(64),
  merchantRegion: optStr(2),
  merchantAccountId: optStr(64),
});

/** applyToken (Antom: Scan to Bind, step 2). */
export const ApplyTokenRequest = z.object({
  grantType: str(32),
  customerBelongsTo: str(64),
  authCode: optStr(128),
  refreshToken: optStr(128),
  merchantRegion: optStr(2),
  merchantAccountId: optStr(64),
});

/** revoke (an unlink from the merchant's side). */
export const RevokeRequest = z.object({
  accessToken: str(128),
  merchantAccountId: optStr(64),
});

const Goods = z.object({
  referenceGoodsId: optStr(64),
  goodsName: optStr(256),
  goodsCategory: optStr(64),
  goodsBrand: optStr(128),
  goodsUnitAmount: Amount.optional(),
  goodsQuantity: z
    .string()
    .regex(/^\d{1,8}$/)
    .optional(),
  goodsSkuName: optStr(64),
  goodsUrl: optStr(2048),
  deliveryMethodType: optStr(32),
  goodsImageUrl: optStr(2048),
});

const Order = z.object({
  referenceOrderId: str(64),
  orderDescription: str(256),
  orderAmount: Amount.optional(),
  merchant: z
    .object({
      referenceMerchantId: optStr(64),
      merchantMCC: optStr(32),
      merchantName: optStr(256),
      merchantDisplayName: optStr(64),
    })
    .optional(),
  goods: z.array(Goods).max(100).optional(),
  buyer: z
    .object({
      referenceBuyerId: optStr(64),
      buyerPhoneNo: optStr(24),
      buyerEmail: optStr(64),
      buyerName: z.object({ firstName: optStr(32), middleName: optStr(32), lastName: optStr(32), fullName: optStr(128) }).optional(),
    })
    .optional(),
  env: Env.optional(),
});

/** pay (AGREEMENT_PAYMENT with the access token). */
export const PayRequest = z.object({
  productCode: str(32),
  paymentRequestId: str(64),
  order: Order,
  paymentAmount: Amount,
  paymentMethod: z.object({ paymentMethodType: str(64), paymentMethodId: str(128) }),
  paymentExpiryTime: optStr(64),
  paymentNotifyUrl: httpUrl(2048).optional(),
  paymentRedirectUrl: optStr(2048),
  settlementStrategy: z.object({ settlementCurrency: z.string().regex(/^[A-Z]{3}$/) }).optional(),
  env: Env.optional(),
  merchantRegion: optStr(2),
  userRegion: optStr(2),
  merchantAccountId: optStr(32),
});
/** A validated pay request. */
export type PayInput = z.infer<typeof PayRequest>;

/** inquiryPayment and cancel: paymentId or paymentRequestId, not both absent. */
export const PaymentLookup = z
  .object({ paymentId: optStr(64), paymentRequestId: optStr(64), merchantAccountId: optStr(32) })
  .refine((v) => Boolean(v.paymentId || v.paymentRequestId), 'paymentId or paymentRequestId is required');

/** refund (full or partial; idempotent on refundRequestId). */
export const RefundRequest = z.object({
  refundRequestId: str(64),
  paymentId: str(64),
  refundAmount: Amount,
  referenceRefundId: optStr(64),
  refundReason: optStr(256),
  refundNotifyUrl: httpUrl(1024).optional(),
  isAsyncRefund: flag.optional(),
  merchantAccountId: optStr(32),
});

/** inquiryRefund: refundId or refundRequestId. */
export const RefundLookup = z
  .object({ refundId: optStr(64), refundRequestId: optStr(64), merchantAccountId: optStr(32) })
  .refine((v) => Boolean(v.refundId || v.refundRequestId), 'refundId or refundRequestId is required');

/** declare (China customs only; idempotent on declarationRequestId). */
export const DeclareRequest = z.object({
  declarationRequestId: str(32),
  paymentId: str(64),
  declarationAmount: Amount,
  customs: z.object({ customsCode: str(128), region: z.string().regex(/^[A-Z]{2}$/) }),
  merchantCustomsInfo: z.object({ merchantCustomsCode: str(128), merchantCustomsName: str(256) }),
  splitOrder: flag,
  subOrderId: optStr(64),
  buyerCertificate: z
    .object({
      certificateType: str(64),
      certificateNo: str(64),
      holderName: z.object({ fullName: optStr(128), firstName: optStr(32), middleName: optStr(32), lastName: optStr(32) }),
    })
    .optional(),
});

/** inquiryDeclarationRequests (1 to 10 ids). */
export const DeclarationLookup = z.object({
  declarationRequestIds: z.array(str(32)).min(1).max(10),
});

/** A short, field-naming message for PARAM_ILLEGAL. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'illegal parameter';
  const path = issue.path.map(String).join('.');
  return `${path || 'body'}: ${issue.message}`.slice(0, 256);
}
