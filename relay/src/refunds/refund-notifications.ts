import { parseAntomTime, readString } from '../antom/messages.ts';
import type { NotificationOutcome } from '../bindings/authorization-notifications.ts';
import { type RefundRepo, refundErrorCode } from './refund-repo.ts';

/**
 * notifyRefund (acknowledged and re-sent like every Antom notification): REFUND_RESULT with refundStatus SUCCESS or FAIL settles the
 * refund; duplicates and late deliveries change nothing.
 */
export class RefundNotifications {
  constructor(private readonly repo: RefundRepo) {}

  /** Handles a verified notifyRefund body. */
  async handle(body: Record<string, unknown>): Promise<NotificationOutcome> {
    if (body['notifyType'] !== 'REFUND_RESULT') return 'ignored';
    const refundRequestId = readString(body, 'refundRequestId');
    if (!refundRequestId) return 'ignored';
    const row = await this.repo.get(refundRequestId);
    if (!row) {
      this.repo.logger.warn({ refundRequestId }, 'refund notification for an unknown refundRequestId');
      return 'unknown';
    }
    const amount = body['refundAmount'] as { currency?: unknown; value?: unknown } | undefined;
    if (amount && (amount.currency !== row.currency || amount.value !== String(row.amount_minor))) {
      this.repo.logger.error({ refundRequestId }, 'notified refund amount differs from the recorded amount: needs a look');
    }
    const status = readString(body, 'refundStatus');
    const result = body['result'] as { resultCode?: unknown } | undefined;
    let res: Awaited<ReturnType<RefundRepo['apply']>>;
    if (status === 'SUCCESS') {
      res = await this.repo.apply(refundRequestId, 'SUCCEEDED', {
        refund_id: readString(body, 'refundId') ?? row.refund_id,
        refunded_at: parseAntomTime(body['refundTime']) ?? this.repo.clock.now(),
        result_code: 'SUCCESS',
      });
    } else if (status === 'FAIL') {
      const code = typeof result?.resultCode === 'string' ? result.resultCode : 'FAIL';
      res = await this.repo.apply(refundRequestId, 'FAILED', { result_code: code, error_code: refundErrorCode(code) });
    } else {
      return 'ignored';
    }
    return res?.changed ? 'applied' : 'duplicate';
  }
}
