import type { z } from 'zod';
import { isoWithOffset } from '../core/clock.ts';
import type { SandboxContext } from '../core/context.ts';
import { antomId } from '../core/ids.ts';
import type { DeclarationRecord } from '../core/state.ts';
import { type AntomBody, canonicalJson, fail, ok } from './result.ts';
import type { DeclarationLookup, DeclareRequest } from './schemas.ts';

/**
 * declare. Antom supports China customs only (region CN, CNY), so whether it declares Scan to
 * Link wallets at all is an open question. The sandbox accepts declarations for successful
 * AlipayHK payments so the call can be exercised; DANA payments are refused with ACCESS_DENIED.
 * Without an FX source the cumulative CNY
 * amount is compared 1:1 with the payment's minor units. Idempotent on declarationRequestId.
 * `result` only says the call worked, not the customs outcome.
 */
export function declare(ctx: SandboxContext, body: z.infer<typeof DeclareRequest>, raw: unknown): AntomBody {
  if (body.customs.region !== 'CN') return fail('PARAM_ILLEGAL', 'customs.region: only CN is supported');
  if (body.declarationAmount.currency !== 'CNY') return fail('PARAM_ILLEGAL', 'declarationAmount.currency: must be CNY');
  if (body.splitOrder && !body.subOrderId) return fail('PARAM_ILLEGAL', 'subOrderId: required when splitOrder is true');
  const { state } = ctx.store;
  const fingerprint = canonicalJson(raw);
  const existing = state.declarations.find((d) => d.declarationRequestId === body.declarationRequestId);
  if (existing) {
    if (existing.fingerprint !== fingerprint) return fail('REPEAT_REQ_INCONSISTENT', 'declarationRequestId was already used with different parameters');
    return ok(declareFields(existing));
  }
  const p = ctx.store.payment({ paymentId: body.paymentId });
  if (!p) return fail('ORDER_NOT_EXIST', 'the payment does not exist');
  if (p.wallet !== 'ALIPAY_HK') return fail('ACCESS_DENIED', 'customs declaration is not available for this payment method');
  if (p.status !== 'SUCCESS') return fail('ORDER_STATUS_INVALID', 'only a successful payment can be declared');
  const declared = state.declarations.filter((d) => d.paymentId === p.paymentId).reduce((s, d) => s + Number(d.declarationAmount.value), 0);
  if (declared + Number(body.declarationAmount.value) > p.amount) {
    return fail('PARAM_ILLEGAL', 'declarationAmount: the declared total exceeds the payment amount');
  }
  const now = ctx.clock.now();
  const d: DeclarationRecord = {
    declarationRequestId: body.declarationRequestId,
    fingerprint,
    paymentId: p.paymentId,
    customsPaymentId: antomId(now, '31', ctx.store.nextSeq()),
    customsOrderId: body.subOrderId ?? p.referenceOrderId ?? p.paymentRequestId,
    customs: body.customs,
    merchantCustomsInfo: body.merchantCustomsInfo,
    declarationAmount: body.declarationAmount,
    splitOrder: body.splitOrder,
    subOrderId: body.subOrderId,
    identityCheckResult: body.buyerCertificate ? 'CHECK_PASSED' : undefined,
    createdAt: now,
  };
  state.declarations.push(d);
  ctx.store.save();
  return ok(declareFields(d));
}

function declareFields(d: DeclarationRecord): Record<string, unknown> {
  return {
    customsPaymentId: d.customsPaymentId,
    customsOrderId: d.customsOrderId,
    clearingChannel: 'OTHER',
    ...(d.identityCheckResult ? { identityCheckResult: d.identityCheckResult } : {}),
  };
}

/** inquiryDeclarationRequests: records found plus the ids not found. */
export function inquiryDeclarations(ctx: SandboxContext, body: z.infer<typeof DeclarationLookup>): AntomBody {
  const { declarations } = ctx.store.state;
  const found: Record<string, unknown>[] = [];
  const notFound: string[] = [];
  for (const id of body.declarationRequestIds) {
    const d = declarations.find((x) => x.declarationRequestId === id);
    if (!d) {
      notFound.push(id);
      continue;
    }
    found.push({
      declarationRequestId: d.declarationRequestId,
      customsPaymentId: d.customsPaymentId,
      customsOrderId: d.customsOrderId,
      customs: d.customs,
      merchantCustomsInfo: d.merchantCustomsInfo,
      declarationAmount: d.declarationAmount,
      splitOrder: String(d.splitOrder),
      declarationRequestStatus: 'SUCCESS',
      lastModifiedTime: isoWithOffset(d.createdAt),
      customsDeclarationResultCode: 'SUCCESS',
      customsDeclarationResultDesc: 'accepted by the sandbox customs',
      customsDeclarationReturnTime: isoWithOffset(d.createdAt),
    });
  }
  return ok({ declarationRecords: found, ...(notFound.length > 0 ? { declarationRequestsNotFound: notFound } : {}) });
}
