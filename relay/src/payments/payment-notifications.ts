import type { Logger } from 'pino';
import { parseAntomTime, readString } from '../antom/messages.ts';
import type { BindingRepo } from '../bindings/binding-repo.ts';
import type { NotificationOutcome } from '../bindings/authorization-notifications.ts';
import { type PurchaseRepo, paymentErrorCode } from './purchase-repo.ts';

/**
 * notifyPayment (sent when a payment succeeds, fails or expires): PAYMENT_RESULT S or F settles whatever inquiry has not;
 * duplicates and late deliveries change nothing (the purchase machine accepts repeats).
 */
export class PaymentNotifications {
  constructor(
    private readonly repo: PurchaseRepo,
    private readonly bindings: BindingRepo,
    private readonly logger: Logger,
  ) {}

  /** Handles a verified notifyPayment body. */
  async handle(body: Record<string, unknown>): Promise<NotificationOutcome> {
    if (body['notifyType'] !== 'PAYMENT_RESULT') return 'ignored';
    const paymentRequestId = readString(body, 'paymentRequestId');
    const result = body['result'] as { resultStatus?: unknown; resultCode?: unknown } | undefined;
    if (!paymentRequestId || !result) return 'ignored';
    const row = await this.repo.byPaymentRequest(paymentRequestId);
    if (!row) {
      this.logger.warn({ paymentRequestId }, 'payment notification for an unknown paymentRequestId');
      return 'unknown';
    }
    const amount = body['paymentAmount'] as { currency?: unknown; value?: unknown } | undefined;
    if (amount && (amount.currency !== row.currency || amount.value !== String(row.amount_minor))) {
      this.logger.error({ intentId: row.intent_id }, 'notified amount differs from the recorded amount: needs a look');
    }
    const paymentId = readString(body, 'paymentId') ?? row.payment_id;
    const code = typeof result.resultCode === 'string' ? result.resultCode : undefined;
    let res: Awaited<ReturnType<PurchaseRepo['apply']>>;
    if (result.resultStatus === 'S') {
      res = await this.repo.apply(
        row.intent_id,
        'PAY_SUCCEEDED',
        {
          payment_id: paymentId,
          paid_at: parseAntomTime(body['paymentTime']) ?? this.repo.clock.now(),
          result_code: code ?? 'SUCCESS',
        },
        row,
      );
    } else if (result.resultStatus === 'F') {
      res = await this.repo.apply(row.intent_id, 'PAY_FAILED', { payment_id: paymentId, result_code: code ?? 'FAIL', error_code: paymentErrorCode(code) }, row);
      if (code === 'INVALID_ACCESS_TOKEN') await this.bindings.markTokenDead(row.binding_id, row.access_token_hash);
    } else {
      return 'ignored';
    }
    return res?.changed ? 'applied' : 'duplicate';
  }
}
