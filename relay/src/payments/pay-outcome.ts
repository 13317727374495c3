import { type AntomOutcome, type PayAnswer, unsettledCode } from '../antom/endpoints.ts';
import type { BindingRepo } from '../bindings/binding-repo.ts';
import { type PurchaseRepo, type PurchaseRow, paymentErrorCode } from './purchase-repo.ts';

/**
 * Applies the answer of a pay call: S → SUCCEEDED, F → FAILED (with the mapped error), U or no
 * answer → PROCESSING with the next inquiry scheduled. Returns the row as it now is. `row` is
 * the row as the caller last wrote it: apply() starts from it and re-reads only if it changed.
 *
 * The answer is written relaxed (PurchaseRepo.apply): committed, not waited for on disk, since
 * Antom holds it and the intent's durable row leads the payment worker to it again by inquiry
 * (issue 17: the pay's latency carries one flush, the intent's, not two).
 */
export async function applyPayAnswer(
  repo: PurchaseRepo,
  bindings: BindingRepo,
  row: PurchaseRow,
  outcome: AntomOutcome<PayAnswer>,
  inquiryIntervalMs: number,
): Promise<PurchaseRow> {
  const now = repo.clock.now();
  let res: Awaited<ReturnType<PurchaseRepo['apply']>>;
  if (outcome.kind === 'succeeded') {
    res = await repo.apply(
      row.intent_id,
      'PAY_SUCCEEDED',
      {
        payment_id: outcome.answer.paymentId ?? null,
        paid_at: outcome.answer.paymentTime ?? now,
        result_code: outcome.code,
      },
      row,
      'relaxed',
    );
  } else if (outcome.kind === 'refused') {
    const code = outcome.code;
    res = await repo.apply(row.intent_id, 'PAY_FAILED', { result_code: code, error_code: paymentErrorCode(code) }, row, 'relaxed');
    if (code === 'INVALID_ACCESS_TOKEN') await bindings.markTokenDead(row.binding_id, row.access_token_hash);
  } else {
    // The pay's lease is released and the first inquiry scheduled in the same statement as the
    // PROCESSING state (issue 17: the outcome in one statement). Only when nothing changed (the
    // row had moved on) is it a separate release, which touches an unsettled purchase only.
    const nextCheckAt = now + inquiryIntervalMs;
    res = await repo.apply(
      row.intent_id,
      'PAY_UNKNOWN',
      {
        result_code: unsettledCode(outcome),
        payment_id: outcome.kind === 'pending' ? (outcome.answer?.paymentId ?? null) : null,
        next_check_at: nextCheckAt,
        lease_until: null,
      },
      row,
      'relaxed',
    );
    if (!res?.changed) await repo.release(row.intent_id, { next_check_at: nextCheckAt });
  }
  return res?.row ?? (await repo.get(row.intent_id)) ?? row;
}
