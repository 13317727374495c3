import { DomainError } from '@scan-to-bind/shared/domain';
import type { AntomClient } from '../antom/client.ts';
import { unsettledCode } from '../antom/endpoints.ts';
import type { Clock } from '../clock.ts';
import { isUniqueViolation } from '../store/db.ts';
import type { DeclarationsTable } from '../store/schema.ts';
import type { DeclarationRepo } from './declaration-repo.ts';
import type { DeclareRequest } from './declare-request.ts';

/** What the admin API shows of a declaration. */
export function declarationStatus(d: DeclarationsTable): Record<string, unknown> {
  return {
    declarationRequestId: d.declaration_request_id,
    purchaseIntentId: d.intent_id,
    paymentId: d.payment_id,
    state: d.state,
    declarationAmount: { currency: d.currency, minor: d.amount_minor },
    customs: { customsCode: d.customs_code, region: d.region },
    merchantCustomsInfo: { merchantCustomsCode: d.merchant_customs_code, merchantCustomsName: d.merchant_customs_name },
    splitOrder: d.split_order === 1,
    ...(d.sub_order_id ? { subOrderId: d.sub_order_id } : {}),
    ...(d.result_code ? { resultCode: d.result_code } : {}),
    ...(d.customs_payment_id ? { customsPaymentId: d.customs_payment_id } : {}),
    ...(d.customs_order_id ? { customsOrderId: d.customs_order_id } : {}),
    ...(d.status_detail ? { customsStatus: d.status_detail } : {}),
  };
}

/**
 * Customs declarations (Antom's declare). Only China customs (region CN, amounts in CNY), only for
 * successful AlipayHK payments (DANA is not eligible), the cumulative declared amount never
 * above the payment (compared 1:1 in minor units: the relay has no FX source), idempotent on
 * declarationRequestId. `result` S only means Antom took the request; the customs outcome
 * comes from inquiryDeclarationRequests. The buyer certificate is passed through, never stored.
 */
export class DeclarationService {
  constructor(
    private readonly repo: DeclarationRepo,
    private readonly clock: Clock,
    private readonly antom: AntomClient,
  ) {}

  /** Declares (or replays) and returns the declaration. Ineligible wallets/payments throw. */
  async declare(req: DeclareRequest): Promise<Record<string, unknown>> {
    if (req.splitOrder && !req.subOrderId) throw new DomainError('INVALID_INPUT', 'subOrderId is required when splitOrder is true');
    const existing = await this.#get(req.declarationRequestId);
    if (existing) return this.#replay(existing, req);
    const now = this.clock.now();
    let row: DeclarationsTable;
    try {
      row = await this.repo.create(req.purchaseIntentId, (p, already) => {
        if (!p) throw new DomainError('NOT_FOUND', 'no such purchase');
        if (p.wallet !== 'ALIPAY_HK') throw new DomainError('WALLET_NOT_AVAILABLE', 'customs declaration is only available for AlipayHK payments');
        if (p.state !== 'SUCCEEDED' || !p.payment_id) throw new DomainError('ILLEGAL_TRANSITION', 'only a successful payment can be declared');
        if (already + req.declarationAmount.minor > p.amount_minor) {
          throw new DomainError('INVALID_MONEY', 'the declared total would exceed the payment amount');
        }
        const values: DeclarationsTable = {
          declaration_request_id: req.declarationRequestId,
          intent_id: p.intent_id,
          payment_id: p.payment_id,
          currency: 'CNY',
          amount_minor: req.declarationAmount.minor,
          customs_code: req.customs.customsCode,
          region: req.customs.region,
          merchant_customs_code: req.merchantCustomsInfo.merchantCustomsCode,
          merchant_customs_name: req.merchantCustomsInfo.merchantCustomsName,
          split_order: req.splitOrder ? 1 : 0,
          sub_order_id: req.subOrderId ?? null,
          state: 'PENDING',
          result_code: null,
          customs_payment_id: null,
          customs_order_id: null,
          status_detail: null,
          created_at: now,
          updated_at: now,
        };
        return values;
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        const raced = await this.#get(req.declarationRequestId);
        if (raced) return this.#replay(raced, req);
      }
      throw err;
    }
    const outcome = await this.antom.call('declare', {
      declarationRequestId: row.declaration_request_id,
      paymentId: row.payment_id,
      declarationAmount: { currency: 'CNY', value: String(row.amount_minor) },
      customs: req.customs,
      merchantCustomsInfo: req.merchantCustomsInfo,
      splitOrder: req.splitOrder,
      ...(req.subOrderId ? { subOrderId: req.subOrderId } : {}),
      ...(req.buyerCertificate ? { buyerCertificate: req.buyerCertificate } : {}),
    });
    const patch: Partial<DeclarationsTable> =
      outcome.kind === 'succeeded'
        ? {
            state: 'ACCEPTED',
            result_code: outcome.code,
            customs_payment_id: outcome.answer.customsPaymentId ?? null,
            customs_order_id: outcome.answer.customsOrderId ?? null,
          }
        : outcome.kind === 'refused'
          ? { state: 'FAILED', result_code: outcome.code }
          : { state: 'UNKNOWN', result_code: unsettledCode(outcome) };
    await this.repo.update(row.declaration_request_id, { ...patch, updated_at: this.clock.now() });
    const done = { ...row, ...patch };
    if (done.state === 'FAILED') {
      const code = done.result_code === 'ACCESS_DENIED' ? 'WALLET_NOT_AVAILABLE' : 'PROVIDER_ERROR';
      throw new DomainError(code, `declare refused by Antom: ${done.result_code}`);
    }
    return declarationStatus(done);
  }

  #replay(row: DeclarationsTable, req: DeclareRequest): Record<string, unknown> {
    if (row.intent_id !== req.purchaseIntentId || row.amount_minor !== req.declarationAmount.minor) {
      throw new DomainError('IDEMPOTENCY_CONFLICT', 'declarationRequestId already used for another declaration');
    }
    return declarationStatus(row);
  }

  #get(id: string): Promise<DeclarationsTable | undefined> {
    return this.repo.get(id);
  }

  /** inquiryDeclarationRequests: refreshes the customs status of up to 10 declarations. */
  async inquire(ids: string[]): Promise<{ declarations: Record<string, unknown>[]; notFound: string[] }> {
    const outcome = await this.antom.call('inquiryDeclarationRequests', { declarationRequestIds: ids });
    if (outcome.kind !== 'succeeded') throw new DomainError('PROVIDER_ERROR', 'inquiryDeclarationRequests failed');
    for (const r of outcome.answer.records) {
      const status = r.declarationRequestStatus;
      await this.repo.update(r.declarationRequestId, {
        status_detail: [status, r.customsDeclarationResultCode].filter(Boolean).join('/') || null,
        customs_payment_id: r.customsPaymentId ?? null,
        customs_order_id: r.customsOrderId ?? null,
        ...(status === 'SUCCESS' ? { state: 'ACCEPTED' } : status === 'FAIL' ? { state: 'FAILED' } : {}),
        updated_at: this.clock.now(),
      });
    }
    const rows = await this.repo.some(ids);
    return { declarations: rows.map(declarationStatus), notFound: outcome.answer.notFound };
  }
}
