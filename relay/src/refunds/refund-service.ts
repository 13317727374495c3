import { checkRefund, type CurrencyCode, DomainError, money, toAntomAmount, type WalletId } from '@scan-to-bind/shared/domain';
import type { RelayRefund } from '@scan-to-bind/shared/relay-api';
import type { Logger } from 'pino';
import type { AntomClient } from '../antom/client.ts';
import { type AntomOutcome, type RefundAnswer, type RefundRequest as AntomRefundRequest, unsettledCode } from '../antom/endpoints.ts';
import { isUniqueViolation } from '../store/db.ts';
import { type RefundRepo, type RefundRow, refundErrorCode, refundStatus } from './refund-repo.ts';

/** A refund request (admin API / CLI). `amount` absent = everything not yet refunded. */
export interface RefundRequest {
  refundRequestId: string;
  purchaseIntentId: string;
  amount?: { currency: string; minor: number } | undefined;
  reason?: string | undefined;
}

/** What the refund service needs. */
export interface RefundDeps {
  repo: RefundRepo;
  antom: AntomClient;
  logger: Logger;
  refundNotifyUrl: string;
  /** Pace of inquiries while a refund is unknown (doubles per attempt, capped at a minute). */
  inquiryIntervalMs: number;
  leaseMs: number;
}

/**
 * Refunds (Antom's refund rules): full or partial, within the wallet's refund window, the cumulative
 * total never above what was paid — checked with the purchase row locked, so several relays on
 * one database cannot over-refund together. The row is written (PENDING) before refund is
 * called; S/F settle it, U or silence leave it PROCESSING for the worker (inquiryRefund, and a
 * re-send with the same refundRequestId and body when Antom never saw it).
 */
export class RefundService {
  readonly #d: RefundDeps;

  constructor(deps: RefundDeps) {
    this.#d = deps;
  }

  /** Creates (or replays) a refund and returns its status. Refusals by the rules throw. */
  async create(req: RefundRequest): Promise<RelayRefund> {
    const { repo } = this.#d;
    const existing = await repo.get(req.refundRequestId);
    if (existing) return this.#replay(existing, req);
    const now = repo.clock.now();
    let row: RefundRow;
    try {
      row = await repo.create(req.purchaseIntentId, (p, already) => {
        if (!p) throw new DomainError('NOT_FOUND', 'no such purchase');
        if (p.state !== 'SUCCEEDED' || !p.payment_id) throw new DomainError('ILLEGAL_TRANSITION', 'only a successful payment can be refunded');
        const currency = p.currency as CurrencyCode;
        if (req.amount && req.amount.currency !== currency) throw new DomainError('CURRENCY_MISMATCH');
        const requested = req.amount?.minor ?? p.amount_minor - already;
        if (requested <= 0) throw new DomainError('REFUND_EXCEEDS_PAID', 'nothing left to refund');
        const check = checkRefund(p.wallet as WalletId, {
          paid: money(p.amount_minor, currency),
          paidAt: new Date(p.paid_at ?? p.finished_at ?? p.created_at),
          alreadyRefunded: money(already, currency),
          requested: money(requested, currency),
          now: new Date(now),
        });
        if (!check.ok) throw new DomainError(check.reason);
        const values: RefundRow = {
          refund_request_id: req.refundRequestId,
          intent_id: p.intent_id,
          owner: p.owner,
          payment_id: p.payment_id,
          currency,
          amount_minor: requested,
          reason: req.reason ?? null,
          state: 'PENDING',
          version: 1,
          refund_id: null,
          result_code: null,
          error_code: null,
          created_at: now,
          updated_at: now,
          refunded_at: null,
          finished_at: null,
          next_check_at: now + this.#d.leaseMs,
          lease_until: now + this.#d.leaseMs,
          attempts: 0,
        };
        return values;
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        const raced = await repo.get(req.refundRequestId);
        if (raced) return this.#replay(raced, req);
      }
      throw err;
    }
    repo.publish(row);
    const outcome = await this.#d.antom.call('refund', this.#body(row));
    return refundStatus(await this.#applyRefundAnswer(row, outcome));
  }

  #replay(row: RefundRow, req: RefundRequest): RelayRefund {
    if (row.intent_id !== req.purchaseIntentId || (req.amount && (req.amount.minor !== row.amount_minor || req.amount.currency !== row.currency))) {
      throw new DomainError('IDEMPOTENCY_CONFLICT', 'refundRequestId already used for another refund');
    }
    return refundStatus(row);
  }

  /** The refund request body; identical on every re-send (Antom compares it). */
  #body(row: RefundRow): AntomRefundRequest {
    return {
      refundRequestId: row.refund_request_id,
      paymentId: row.payment_id,
      refundAmount: toAntomAmount(money(row.amount_minor, row.currency as CurrencyCode)),
      ...(row.reason ? { refundReason: row.reason.slice(0, 256) } : {}),
      refundNotifyUrl: this.#d.refundNotifyUrl,
    };
  }

  #backoff(attempts: number): number {
    return Math.min(this.#d.inquiryIntervalMs * 2 ** Math.min(attempts, 10), 60_000);
  }

  async #applyRefundAnswer(row: RefundRow, outcome: AntomOutcome<RefundAnswer>): Promise<RefundRow> {
    const { repo } = this.#d;
    const now = repo.clock.now();
    let res: Awaited<ReturnType<RefundRepo['apply']>>;
    if (outcome.kind === 'succeeded') {
      res = await repo.apply(row.refund_request_id, 'SUCCEEDED', {
        refund_id: outcome.answer.refundId ?? null,
        refunded_at: outcome.answer.refundTime ?? now,
        result_code: outcome.code,
      });
    } else if (outcome.kind === 'refused') {
      res = await repo.apply(row.refund_request_id, 'FAILED', { result_code: outcome.code, error_code: refundErrorCode(outcome.code) });
    } else {
      res = await repo.apply(row.refund_request_id, 'PROCESSING', { result_code: unsettledCode(outcome) });
      await repo.release(row.refund_request_id, { next_check_at: now + this.#backoff(row.attempts), attempts: row.attempts + 1 });
    }
    return res?.row ?? (await repo.get(row.refund_request_id)) ?? row;
  }

  /** Worker step: settles unknown refunds by inquiryRefund (re-sending refund when Antom never saw it). */
  async tick(): Promise<void> {
    const { repo, antom } = this.#d;
    const now = repo.clock.now();
    const due = await repo.due(now, 20);
    for (const row of due) {
      if (!(await repo.claim(row.refund_request_id, this.#d.leaseMs))) continue;
      const inquiry = await antom.call('inquiryRefund', { refundRequestId: row.refund_request_id });
      if (inquiry.kind === 'succeeded') {
        const { refundStatus: status, refundId, refundTime, refundResultCode } = inquiry.answer;
        if (status === 'SUCCESS') {
          await repo.apply(row.refund_request_id, 'SUCCEEDED', {
            refund_id: refundId ?? null,
            refunded_at: refundTime ?? now,
            result_code: 'SUCCESS',
          });
          continue;
        }
        if (status === 'FAIL') {
          const code = refundResultCode ?? 'FAIL';
          await repo.apply(row.refund_request_id, 'FAILED', { result_code: code, error_code: refundErrorCode(code) });
          continue;
        }
      } else if (inquiry.kind === 'refused' && inquiry.code === 'ORDER_NOT_EXIST') {
        // The refund never reached Antom: send it again, same refundRequestId and body.
        this.#d.logger.warn({ refundRequestId: row.refund_request_id }, 'refund unknown to Antom: re-sending');
        await this.#applyRefundAnswer(row, await antom.call('refund', this.#body(row)));
        continue;
      }
      await repo.release(row.refund_request_id, { next_check_at: now + this.#backoff(row.attempts), attempts: row.attempts + 1 });
    }
  }

  /** Refunds of one purchase. */
  async ofPurchase(intentId: string): Promise<RelayRefund[]> {
    return (await this.#d.repo.ofPurchase(intentId)).map(refundStatus);
  }

  /** One refund. */
  async status(refundRequestId: string): Promise<RelayRefund> {
    const row = await this.#d.repo.get(refundRequestId);
    if (!row) throw new DomainError('NOT_FOUND');
    return refundStatus(row);
  }
}
