import { canCancel, type WalletId, walletInfo } from '@scan-to-bind/shared/domain';
import type { Logger } from 'pino';
import type { AntomClient } from '../antom/client.ts';
import { outcomeCode } from '../antom/endpoints.ts';
import type { BindingRepo } from '../bindings/binding-repo.ts';
import type { RelayConfig } from '../config.ts';
import { type PurchaseRepo, type PurchaseRow, paymentErrorCode } from './purchase-repo.ts';

type Settled = 'settled' | 'open';

/**
 * Resolves unsettled purchases from the database, so a restarted relay carries on where it
 * stopped: inquiryPayment every `inquiryIntervalMs` until the payment expiry, then cancel
 * (AlipayHK). DANA cannot be cancelled (Antom's cancel window): it is inquired at a slower pace until
 * Antom gives a final answer, and reported once as unresolved. A purchase left SUBMITTED by
 * a crash during pay is treated as unknown and inquired, never paid again.
 */
export class PaymentWorker {
  constructor(
    private readonly repo: PurchaseRepo,
    private readonly bindings: BindingRepo,
    private readonly antom: AntomClient,
    private readonly logger: Logger,
    private readonly settings: RelayConfig['payments'],
  ) {}

  /** One pass over due purchases. */
  async tick(): Promise<void> {
    const now = this.repo.clock.now();
    const due = await this.repo.due(now, 50);
    for (const row of due) {
      if (!(await this.repo.claim(row.intent_id, this.settings.leaseMs))) continue;
      try {
        await this.#resolve(row);
      } catch (err) {
        this.logger.error({ intentId: row.intent_id, err: (err as Error).message }, 'payment check failed');
        await this.repo.release(row.intent_id, { next_check_at: this.repo.clock.now() + this.settings.inquiryIntervalMs });
      }
    }
  }

  async #resolve(row: PurchaseRow): Promise<void> {
    if (row.state === 'SUBMITTED') {
      await this.repo.apply(row.intent_id, 'PAY_UNKNOWN', { result_code: 'NO_ANSWER' });
    }
    if ((await this.#inquire(row)) === 'settled') return;
    const now = this.repo.clock.now();
    const expiresAt = row.expires_at ?? now;
    if (now < expiresAt) {
      await this.repo.release(row.intent_id, { next_check_at: now + this.settings.inquiryIntervalMs, inquiries: row.inquiries + 1 });
      return;
    }
    const wallet = row.wallet as WalletId;
    if (walletInfo(wallet).cancel.kind === 'never' || !canCancel(wallet, new Date(row.submitted_at ?? row.created_at), new Date(now))) {
      if (row.unresolved_reported_at === null) {
        this.logger.error(
          { intentId: row.intent_id, paymentRequestId: row.payment_request_id, wallet },
          'payment unresolved after its expiry and it cannot be cancelled: inquiring until Antom answers',
        );
      }
      await this.repo.release(row.intent_id, {
        next_check_at: now + this.settings.unresolvedInquiryIntervalMs,
        inquiries: row.inquiries + 1,
        unresolved_reported_at: row.unresolved_reported_at ?? now,
      });
      return;
    }
    await this.#cancel(row);
  }

  async #inquire(row: PurchaseRow): Promise<Settled> {
    const outcome = await this.antom.call('inquiryPayment', { paymentRequestId: row.payment_request_id });
    if (outcome.kind !== 'succeeded') return 'open';
    const { paymentStatus: status, paymentResultCode, paymentTime } = outcome.answer;
    const paymentId = outcome.answer.paymentId ?? row.payment_id;
    if (status === 'SUCCESS') {
      await this.repo.apply(row.intent_id, 'PAY_SUCCEEDED', {
        payment_id: paymentId,
        paid_at: paymentTime ?? this.repo.clock.now(),
        result_code: 'SUCCESS',
      });
      return 'settled';
    }
    if (status === 'FAIL') {
      const code = paymentResultCode;
      await this.repo.apply(row.intent_id, 'PAY_FAILED', { payment_id: paymentId, result_code: code ?? 'FAIL', error_code: paymentErrorCode(code) });
      if (code === 'INVALID_ACCESS_TOKEN') await this.bindings.markTokenDead(row.binding_id, row.access_token_hash);
      return 'settled';
    }
    if (status === 'CANCELLED') {
      await this.repo.apply(row.intent_id, 'CANCEL_CONFIRMED', { payment_id: paymentId, result_code: 'CANCELLED' });
      return 'settled';
    }
    return 'open';
  }

  async #cancel(row: PurchaseRow): Promise<void> {
    const now = this.repo.clock.now();
    const outcome = await this.antom.call('cancel', { paymentRequestId: row.payment_request_id });
    if (outcome.kind === 'succeeded') {
      this.logger.info({ intentId: row.intent_id }, 'unresolved payment cancelled');
      await this.repo.apply(row.intent_id, 'CANCEL_CONFIRMED', { result_code: 'CANCELLED', payment_id: outcome.answer.paymentId ?? row.payment_id });
      return;
    }
    if (outcome.kind === 'refused' && outcome.code === 'ORDER_NOT_EXIST') {
      // Antom never created this payment and its expiry has passed: nothing was or can be charged.
      await this.repo.apply(row.intent_id, 'PAY_FAILED', { result_code: 'ORDER_NOT_EXIST', error_code: 'PAYMENT_FAILED' });
      return;
    }
    this.logger.warn({ intentId: row.intent_id, code: outcomeCode(outcome) }, 'cancel not confirmed; inquiring again');
    await this.repo.release(row.intent_id, { next_check_at: now + this.settings.inquiryIntervalMs, cancel_attempts: row.cancel_attempts + 1 });
  }
}
