import { type CurrencyCode, type ErrorCode, errorMessage } from '@scan-to-bind/shared/domain';
import type { RelayRefund } from '@scan-to-bind/shared/relay-api';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { EventHub } from '../events.ts';
import { lockPurchase, type PurchaseRow } from '../payments/purchase-repo.ts';
import { countWhere } from '../store/counts.ts';
import type { Store } from '../store/db.ts';
import type { RefundsTable } from '../store/schema.ts';

/** A refund row. */
export type RefundRow = RefundsTable;

/** Refund states: written PENDING before refund is called; PROCESSING after U or silence. */
export type RefundState = 'PENDING' | 'PROCESSING' | 'SUCCEEDED' | 'FAILED';

const FINAL: readonly string[] = ['SUCCEEDED', 'FAILED'];
/** States whose amount counts against what is left to refund. */
const COUNTED = ['PENDING', 'PROCESSING', 'SUCCEEDED'];

/** What the purchasing client and the admin API see of a refund row (its shape: shared/relay-api RelayRefund). */
export function refundStatus(row: RefundRow): RelayRefund {
  const status: RelayRefund = {
    refundRequestId: row.refund_request_id,
    purchaseIntentId: row.intent_id,
    state: row.state as RefundState,
    version: row.version,
    amount: { currency: row.currency as CurrencyCode, minor: row.amount_minor },
  };
  if (row.refund_id) status.refundId = row.refund_id;
  if (row.refunded_at !== null) status.refundedAt = new Date(row.refunded_at).toISOString();
  if (row.reason) status.reason = row.reason;
  if (row.state === 'FAILED') {
    const code = (row.error_code as ErrorCode | null) ?? 'PROVIDER_ERROR';
    status.error = { code, message: errorMessage(code, 'en') };
  }
  return status;
}

/**
 * Maps Antom's refund refusal codes to the product's. Antom's refund code table could not be
 * read in full (an open question), so the two known codes are the sandbox's; any other is a
 * PROVIDER_ERROR, the safe reading.
 */
export function refundErrorCode(resultCode: string | undefined): ErrorCode {
  if (resultCode === 'REFUND_AMOUNT_EXCEED') return 'REFUND_EXCEEDS_PAID';
  if (resultCode === 'REFUND_WINDOW_EXCEED') return 'REFUND_WINDOW_EXCEEDED';
  return 'PROVIDER_ERROR';
}

/** Refund state changes with the row locked; final states never change again. */
export class RefundRepo {
  constructor(
    readonly store: Store,
    readonly clock: Clock,
    readonly hub: EventHub,
    readonly logger: Logger,
  ) {}

  /** One refund by its refundRequestId. */
  get(refundRequestId: string): Promise<RefundRow | undefined> {
    return this.store.db.selectFrom('refunds').selectAll().where('refund_request_id', '=', refundRequestId).executeTakeFirst();
  }

  /** Refunds of one purchase, oldest first. */
  ofPurchase(intentId: string): Promise<RefundRow[]> {
    return this.store.db.selectFrom('refunds').selectAll().where('intent_id', '=', intentId).orderBy('created_at').execute();
  }

  /**
   * Writes a new refund of a purchase under the purchase's lock (`lockPurchase`): `decide` gets
   * the purchase and the sum of its refunds that count (pending, processing, succeeded) and
   * returns the row to insert, or throws to refuse. So several relays on one database cannot
   * over-refund together.
   */
  create(intentId: string, decide: (purchase: PurchaseRow | undefined, alreadyRefunded: number) => RefundRow): Promise<RefundRow> {
    return this.store.db.transaction().execute(async (trx) => {
      const p = await lockPurchase(trx, this.store.dialect, intentId);
      let already = 0;
      if (p) {
        const sum = await trx
          .selectFrom('refunds')
          .select((eb) => eb.fn.sum<string | number | null>('amount_minor').as('total'))
          .where('intent_id', '=', p.intent_id)
          .where('state', 'in', COUNTED)
          .executeTakeFirst();
        already = Number(sum?.total ?? 0);
      }
      const values = decide(p, already);
      await trx.insertInto('refunds').values(values).execute();
      return values;
    });
  }

  /** Unsettled refunds whose next check is due, oldest first. */
  due(now: number, limit: number): Promise<RefundRow[]> {
    return this.store.db
      .selectFrom('refunds')
      .selectAll()
      .where('state', 'in', ['PENDING', 'PROCESSING'])
      .where('next_check_at', '<=', now)
      .orderBy('next_check_at')
      .limit(limit)
      .execute();
  }

  /** The newest refunds, optionally of one purchase or in one state (admin API). */
  list(filter: { intentId?: string | undefined; state?: string | undefined }, limit: number): Promise<RefundRow[]> {
    let q = this.store.db.selectFrom('refunds').selectAll();
    if (filter.intentId) q = q.where('intent_id', '=', filter.intentId);
    if (filter.state) q = q.where('state', '=', filter.state);
    return q.orderBy('created_at', 'desc').limit(limit).execute();
  }

  /** Refunds not yet settled (the `relay_refunds_backlog` metric). */
  backlog(): Promise<number> {
    return countWhere(this.store, 'refunds', ['PENDING', 'PROCESSING']);
  }

  /**
   * Moves a refund to `state`. A repeat of the final state is a no-op; a contradiction (S after
   * F or F after S) is refused and logged for a look, never applied.
   */
  async apply(refundRequestId: string, state: RefundState, patch: Partial<RefundRow> = {}): Promise<{ row: RefundRow; changed: boolean } | undefined> {
    const result = await this.store.db.transaction().execute(async (trx) => {
      let q = trx.selectFrom('refunds').selectAll().where('refund_request_id', '=', refundRequestId);
      if (this.store.dialect === 'postgres') q = q.forUpdate();
      const row = await q.executeTakeFirst();
      if (!row) return undefined;
      if (row.state === state) return { row, changed: false };
      if (FINAL.includes(row.state)) {
        this.logger.error({ refundRequestId, from: row.state, to: state }, 'refund outcome contradicts the recorded state: needs a look');
        return undefined;
      }
      const now = this.clock.now();
      const final = FINAL.includes(state);
      const next: RefundRow = {
        ...row,
        ...patch,
        state,
        version: row.version + 1,
        updated_at: now,
        ...(final ? { finished_at: now, next_check_at: null, lease_until: null } : {}),
      };
      const { refund_request_id: _id, ...values } = next;
      await trx.updateTable('refunds').set(values).where('refund_request_id', '=', refundRequestId).execute();
      return { row: next, changed: true };
    });
    if (result?.changed) this.publish(result.row);
    return result;
  }

  /** Pushes the refund's status to the purchasing owner's streams. */
  publish(row: RefundRow): void {
    this.hub.publish({ kind: 'refund', owner: row.owner, id: row.refund_request_id, version: row.version, status: { ...refundStatus(row) } });
  }

  /** Takes the worker lease of an unsettled refund. */
  async claim(refundRequestId: string, leaseMs: number): Promise<boolean> {
    const now = this.clock.now();
    const res = await this.store.db
      .updateTable('refunds')
      .set({ lease_until: now + leaseMs })
      .where('refund_request_id', '=', refundRequestId)
      .where('state', 'in', ['PENDING', 'PROCESSING'])
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** Releases the lease and schedules the next check of an unsettled refund. */
  async release(refundRequestId: string, patch: Partial<RefundRow>): Promise<void> {
    await this.store.db
      .updateTable('refunds')
      .set({ ...patch, lease_until: null })
      .where('refund_request_id', '=', refundRequestId)
      .where('state', 'in', ['PENDING', 'PROCESSING'])
      .execute();
  }
}
