import { consultCodeValue, parseAntomTime, readString, readTokenGrant, type TokenGrant } from './messages.ts';

/*
 * The Antom APIs the relay calls, typed: one request and one answer type per API (consult,
 * applyToken, revoke, pay, inquiries, cancel, refund, declare), and the answer read once, here, into a discriminated outcome. Callers switch on
 * `kind` and never look at `result` or the raw body again.
 */

/** An amount as Antom writes it: currency and a decimal string of minor units. */
export interface AntomAmount {
  currency: string;
  value: string;
}

/** consult (Antom: Scan to Bind, step 1): a QR for the wallet to authorize the merchant. */
export interface ConsultRequest {
  customerBelongsTo: string;
  authRedirectUrl: string;
  scopes: 'AGREEMENT_PAY'[];
  authState: string;
  env: { terminalType: 'WEB' };
  /** Deprecated at top level, still required by older Antom pages: sent in both places. */
  terminalType: 'WEB';
  authNotifyUrl: string;
}
/** A consult answer: the TEXT QRCODE code value (required: without it the consult is of no use). */
export interface ConsultAnswer {
  codeValue: string;
}

/** applyToken (Antom: Scan to Bind, step 2): an authCode or a refresh token exchanged for an access token. */
export type ApplyTokenRequest =
  | { grantType: 'AUTHORIZATION_CODE'; customerBelongsTo: string; authCode: string }
  | { grantType: 'REFRESH_TOKEN'; customerBelongsTo: string; refreshToken: string };
/** An applyToken answer: the tokens (the access token is required). */
export type ApplyTokenAnswer = TokenGrant;

/** revoke (Antom: unlink from the merchant's side; the token is dead after S). */
export interface RevokeRequest {
  accessToken: string;
}
/** A revoke answer carries nothing but its result. */
export type RevokeAnswer = Record<string, never>;

/** pay (AGREEMENT_PAYMENT), Auto Debit with the binding's access token. */
export interface PayRequest {
  productCode: 'AGREEMENT_PAYMENT';
  paymentRequestId: string;
  paymentAmount: AntomAmount;
  order: {
    referenceOrderId: string;
    orderDescription: string;
    orderAmount: AntomAmount;
    goods: { referenceGoodsId: string; goodsName: string; goodsQuantity: string; goodsUnitAmount: AntomAmount }[];
    env: { terminalType: 'WEB' };
  };
  paymentMethod: { paymentMethodType: string; paymentMethodId: string };
  paymentNotifyUrl: string;
  env: { terminalType: 'WEB' };
}
/** A pay answer: Antom's payment id and, on success, the payment time (epoch ms). */
export interface PayAnswer {
  paymentId?: string;
  paymentTime?: number;
}

/** inquiryPayment (the payment's status, for an unknown or silent pay). */
export interface InquiryPaymentRequest {
  paymentRequestId: string;
}
/** An inquiryPayment answer: the payment's own status (`result` is only the inquiry's). */
export interface InquiryPaymentAnswer {
  paymentStatus?: string;
  paymentResultCode?: string;
  paymentId?: string;
  paymentTime?: number;
}

/** cancel (Antom's cancel window: AlipayHK until 00:15 UTC+8 the next day, DANA never). */
export interface CancelRequest {
  paymentRequestId: string;
}
/** A cancel answer. */
export interface CancelAnswer {
  paymentId?: string;
}

/** refund (full or partial; idempotent on refundRequestId). */
export interface RefundRequest {
  refundRequestId: string;
  paymentId: string;
  refundAmount: AntomAmount;
  refundReason?: string;
  refundNotifyUrl: string;
}
/** A refund answer. */
export interface RefundAnswer {
  refundId?: string;
  refundTime?: number;
}

/** inquiryRefund (the refund's status, for an unknown or silent refund). */
export interface InquiryRefundRequest {
  refundRequestId: string;
}
/** An inquiryRefund answer: the refund's own status. */
export interface InquiryRefundAnswer {
  refundStatus?: string;
  refundResultCode?: string;
  refundId?: string;
  refundTime?: number;
}

/** declare (China customs only; idempotent on declarationRequestId). */
export interface DeclareCall {
  declarationRequestId: string;
  paymentId: string;
  declarationAmount: AntomAmount;
  customs: { customsCode: string; region: string };
  merchantCustomsInfo: { merchantCustomsCode: string; merchantCustomsName: string };
  splitOrder: boolean;
  subOrderId?: string;
  buyerCertificate?: Record<string, unknown>;
}
/** A declare answer (`result` S says only that Antom took the request). */
export interface DeclareAnswer {
  customsPaymentId?: string;
  customsOrderId?: string;
}

/** inquiryDeclarationRequests (at most 10 ids per call). */
export interface InquiryDeclarationsRequest {
  declarationRequestIds: string[];
}
/** One declaration record of an inquiry. */
export interface DeclarationRecord {
  declarationRequestId: string;
  declarationRequestStatus?: string;
  customsDeclarationResultCode?: string;
  customsPaymentId?: string;
  customsOrderId?: string;
}
/** An inquiryDeclarationRequests answer. */
export interface InquiryDeclarationsAnswer {
  records: DeclarationRecord[];
  notFound: string[];
}

/** Request and answer type of each API, by the name the relay calls it. */
export interface AntomApis {
  consult: { request: ConsultRequest; answer: ConsultAnswer };
  applyToken: { request: ApplyTokenRequest; answer: ApplyTokenAnswer };
  revoke: { request: RevokeRequest; answer: RevokeAnswer };
  pay: { request: PayRequest; answer: PayAnswer };
  inquiryPayment: { request: InquiryPaymentRequest; answer: InquiryPaymentAnswer };
  cancel: { request: CancelRequest; answer: CancelAnswer };
  refund: { request: RefundRequest; answer: RefundAnswer };
  inquiryRefund: { request: InquiryRefundRequest; answer: InquiryRefundAnswer };
  declare: { request: DeclareCall; answer: DeclareAnswer };
  inquiryDeclarationRequests: { request: InquiryDeclarationsRequest; answer: InquiryDeclarationsAnswer };
}

/** The name of an Antom API the relay calls. */
export type AntomEndpoint = keyof AntomApis;

/** Why a call has no usable answer: no verified answer came (transport, signature), or it was unreadable. */
export type UnknownReason = 'timeout' | 'network' | 'http' | 'unverified' | 'malformed';

/**
 * What one call produced, read once:
 * - `succeeded`: result S and an answer with what the relay needs;
 * - `refused`: result F, final (`code` says why);
 * - `pending`: result U, Antom answered but the outcome is not known yet (`answer` holds what it did say);
 * - `unknown`: no verified answer, or an S without the fields it must carry; treat like U.
 * What `pending`/`unknown` mean per API (issue 14 §5): pay, refund and cancel stay unsettled
 * and are inquired (never a final FAIL); inquiries are asked again later; consult answers
 * PROVIDER_ERROR with no code shown; applyToken and revoke are retried.
 */
export type AntomOutcome<A> =
  | { kind: 'succeeded'; code: string; answer: A }
  | { kind: 'refused'; code: string }
  | { kind: 'pending'; code: string; answer: A | undefined }
  | { kind: 'unknown'; reason: UnknownReason; detail: string };

/** The code an outcome leaves for logs and rows: Antom's resultCode, or why there is none. */
export function outcomeCode(outcome: AntomOutcome<unknown>): string {
  return outcome.kind === 'unknown' ? outcome.reason : outcome.code;
}

/** The result_code a row keeps when an outcome leaves it unsettled: Antom's code for a U, the upper-case reason when no answer came. */
export function unsettledCode(outcome: Extract<AntomOutcome<unknown>, { kind: 'pending' | 'unknown' }>): string {
  return outcome.kind === 'pending' ? outcome.code : outcome.reason.toUpperCase();
}

/** Antom's `result` object: S succeeded, F failed (act on the code), U unknown (retry or inquire). */
export interface AntomResult {
  resultStatus: 'S' | 'F' | 'U';
  resultCode: string;
  resultMessage?: string;
}

/** A verified Antom answer with its result, or why there is none (the client's transport level). */
export type AntomReply = { kind: 'answer'; result: AntomResult; body: Record<string, unknown> } | { kind: 'unknown'; reason: UnknownReason; detail: string };

const time = (body: Record<string, unknown>, key: string): { [k: string]: number } => {
  const t = parseAntomTime(body[key]);
  return t === undefined ? {} : { [key]: t };
};
const text = <K extends string>(body: Record<string, unknown>, ...keys: K[]): { [P in K]?: string } => {
  const out: { [P in K]?: string } = {};
  for (const k of keys) {
    const v = readString(body, k);
    if (v !== undefined) out[k] = v;
  }
  return out;
};

/** Reads the fields the relay uses from each API's answer; undefined when a required one is missing. */
const READERS: { [E in AntomEndpoint]: (body: Record<string, unknown>) => AntomApis[E]['answer'] | undefined } = {
  consult: (body) => {
    const codeValue = consultCodeValue(body);
    return codeValue ? { codeValue } : undefined;
  },
  applyToken: (body) => readTokenGrant(body),
  revoke: () => ({}),
  pay: (body) => ({ ...text(body, 'paymentId'), ...time(body, 'paymentTime') }),
  inquiryPayment: (body) => ({ ...text(body, 'paymentStatus', 'paymentResultCode', 'paymentId'), ...time(body, 'paymentTime') }),
  cancel: (body) => text(body, 'paymentId'),
  refund: (body) => ({ ...text(body, 'refundId'), ...time(body, 'refundTime') }),
  inquiryRefund: (body) => ({ ...text(body, 'refundStatus', 'refundResultCode', 'refundId'), ...time(body, 'refundTime') }),
  declare: (body) => text(body, 'customsPaymentId', 'customsOrderId'),
  inquiryDeclarationRequests: (body) => {
    const raw = Array.isArray(body['declarationRecords']) ? (body['declarationRecords'] as unknown[]) : [];
    const records: DeclarationRecord[] = [];
    for (const r of raw) {
      if (typeof r !== 'object' || r === null) continue;
      const rec = r as Record<string, unknown>;
      const id = readString(rec, 'declarationRequestId');
      if (id)
        records.push({
          declarationRequestId: id,
          ...text(rec, 'declarationRequestStatus', 'customsDeclarationResultCode', 'customsPaymentId', 'customsOrderId'),
        });
    }
    const nf = body['declarationRequestsNotFound'];
    return { records, notFound: Array.isArray(nf) ? nf.filter((x): x is string => typeof x === 'string') : [] };
  },
};

/** Reads one reply of `endpoint` into its outcome (the only place an Antom answer is interpreted). */
export function readOutcome<E extends AntomEndpoint>(endpoint: E, reply: AntomReply): AntomOutcome<AntomApis[E]['answer']> {
  if (reply.kind === 'unknown') return reply;
  const { resultStatus, resultCode } = reply.result;
  if (resultStatus === 'F') return { kind: 'refused', code: resultCode };
  const answer = READERS[endpoint](reply.body) as AntomApis[E]['answer'] | undefined;
  if (resultStatus === 'U') return { kind: 'pending', code: resultCode, answer };
  if (answer === undefined) return { kind: 'unknown', reason: 'malformed', detail: `${endpoint} answer ${resultCode} lacks required fields` };
  return { kind: 'succeeded', code: resultCode, answer };
}
