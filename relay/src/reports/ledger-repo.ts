import type { Store } from '../store/db.ts';

/** What reconciliation reads of each purchase and refund: its request id, state, amount and settlement time. */
export async function ledgerRows(store: Store): Promise<{
  purchases: { payment_request_id: string; state: string; currency: string; amount_minor: number; paid_at: number | null }[];
  refunds: { refund_request_id: string; state: string; currency: string; amount_minor: number; refunded_at: number | null }[];
}> {
  const purchases = await store.db.selectFrom('purchases').select(['payment_request_id', 'state', 'currency', 'amount_minor', 'paid_at']).execute();
  const refunds = await store.db.selectFrom('refunds').select(['refund_request_id', 'state', 'currency', 'amount_minor', 'refunded_at']).execute();
  return { purchases, refunds };
}
