import type { AntomOutcome } from '../antom/client.ts';
import { parseAntomTime, readString } from '../antom/messages.ts';
import type { BindingRepo } from '../bindings/binding-repo.ts';
import { type PurchaseRepo, type PurchaseRow, paymentErrorCode } from './purchase-repo.ts';

/**
 * Applies the answer of a pay call: S → SUCCEEDED, F → FAILED (with the mapped error), U or no
 * answer → PROCESSING with the next inquiry scheduled. Returns the row as it now is. `row` is
 * the row as the caller last wrote it: apply() starts from it and re-reads only if it changed.
 */
export async function applyPayAnswer(
  repo: PurchaseRepo,
  bindings: BindingRepo,
  row: PurchaseRow,
  outcome: AntomOutcome,
  inquiryIntervalMs: number,
): Promise<PurchaseRow> {
  const now = repo.clock.now();
  let res: Awaited<ReturnType<PurchaseRepo['apply']>>;
  if (outcome.kind === 'answer' && outcome.result.resultStatus === 'S') {
    res = await repo.apply(row.intent_id, 'PAY_SUCCEEDED', {
      payment_id: readString(outcome.body, 'paymentId') ?? null,
      paid_at: parseAntomTime(outcome.body['paymentTime']) ?? now,
      result_code: outcome.result.resultCode,
    }, row);
  } else if (outcome.kind === 'answer' && outcome.result.resultStatus === 'F') {
    const code = outcome.result.resultCode;
    res = await repo.apply(row.intent_id, 'PAY_FAILED', { result_code: code, error_code: paymentErrorCode(code) }, row);
    if (code === 'INVALID_ACCESS_TOKEN') await bindings.markTokenDead(row.binding_id);
  } else {
    res = await repo.apply(row.intent_id, 'PAY_UNKNOWN', {
      result_code: outcome.kind === 'answer' ? outcome.result.resultCode : outcome.reason.toUpperCase(),
      payment_id: outcome.kind === 'answer' ? (readString(outcome.body, 'paymentId') ?? null) : null,
    }, row);
    await repo.release(row.intent_id, { next_check_at: now + inquiryIntervalMs });
  }
  return res?.row ?? (await repo.get(row.intent_id)) ?? row;
}
