import type { AntomOutcome } from '../antom/client.ts';
import { parseAntomTime, readString } from '../antom/messages.ts';
import type { BindingRepo } from '../bindings/binding-repo.ts';
import { type PurchaseRepo, type PurchaseRow, paymentErrorCode } from './purchase-repo.ts';

/** After INVALID_ACCESS_TOKEN the binding's token is known dead: let the worker refresh or expire it now. */
export async function markTokenDead(bindings: BindingRepo, bindingId: string): Promise<void> {
  const now = bindings.clock.now();
  await bindings.store.db
    .updateTable('bindings')
    .set({ access_token_expires_at: now, next_action_at: now })
    .where('id', '=', bindingId)
    .where('state', '=', 'ACTIVE')
    .execute();
}

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
    if (code === 'INVALID_ACCESS_TOKEN') await markTokenDead(bindings, row.binding_id);
  } else {
    res = await repo.apply(row.intent_id, 'PAY_UNKNOWN', {
      result_code: outcome.kind === 'answer' ? outcome.result.resultCode : outcome.reason.toUpperCase(),
      payment_id: outcome.kind === 'answer' ? (readString(outcome.body, 'paymentId') ?? null) : null,
    }, row);
    await repo.release(row.intent_id, { next_check_at: now + inquiryIntervalMs });
  }
  return res?.row ?? (await repo.get(row.intent_id)) ?? row;
}
