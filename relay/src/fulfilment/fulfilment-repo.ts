import type { Kysely } from 'kysely';
import type { Store } from '../store/db.ts';
import { countWhere } from '../store/counts.ts';
import type { Database, FulfilmentOutboxTable } from '../store/schema.ts';

/** A row of the fulfilment outbox. */
export type DeliveryRow = FulfilmentOutboxTable;

/** The fulfilment outbox's table (`fulfilment_outbox`): one event per purchase. */
export class FulfilmentRepo {
  constructor(readonly store: Store) {}

  /** Writes an event on `trx` (the transaction that records the success); a second one for the same purchase is dropped. */
  async insert(trx: Kysely<Database>, row: DeliveryRow): Promise<void> {
    await trx
      .insertInto('fulfilment_outbox')
      .values(row)
      .onConflict((oc) => oc.column('intent_id').doNothing())
      .execute();
  }

  /** Undelivered webhook events. */
  backlog(): Promise<number> {
    return countWhere(this.store, 'fulfilment_outbox', ['PENDING']);
  }

  /** Pending events whose attempt is due, oldest first. */
  due(now: number, limit: number): Promise<DeliveryRow[]> {
    return this.store.db
      .selectFrom('fulfilment_outbox')
      .selectAll()
      .where('state', '=', 'PENDING')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .limit(limit)
      .execute();
  }

  /** Takes an event's lease; true when this process now owns its next delivery attempt. */
  async claim(eventId: string, now: number, leaseMs: number): Promise<boolean> {
    const res = await this.store.db
      .updateTable('fulfilment_outbox')
      .set({ lease_until: now + leaseMs })
      .where('event_id', '=', eventId)
      .where('state', '=', 'PENDING')
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** Ends one attempt: writes its result and releases the lease. */
  async attempted(eventId: string, patch: Partial<Omit<DeliveryRow, 'event_id' | 'lease_until'>>): Promise<void> {
    await this.store.db
      .updateTable('fulfilment_outbox')
      .set({ ...patch, lease_until: null })
      .where('event_id', '=', eventId)
      .execute();
  }

  /** One event, or undefined. */
  get(eventId: string): Promise<DeliveryRow | undefined> {
    return this.store.db.selectFrom('fulfilment_outbox').selectAll().where('event_id', '=', eventId).executeTakeFirst();
  }

  /** The event of a purchase, if one was written. */
  ofPurchase(intentId: string): Promise<DeliveryRow | undefined> {
    return this.store.db.selectFrom('fulfilment_outbox').selectAll().where('intent_id', '=', intentId).executeTakeFirst();
  }

  /** The newest events, optionally of one purchase or in one state (admin API). */
  list(filter: { intentId?: string | undefined; state?: string | undefined }, limit: number): Promise<DeliveryRow[]> {
    let q = this.store.db.selectFrom('fulfilment_outbox').selectAll();
    if (filter.intentId) q = q.where('intent_id', '=', filter.intentId);
    if (filter.state) q = q.where('state', '=', filter.state);
    return q.orderBy('created_at', 'desc').limit(limit).execute();
  }

  /** Makes a pending event due now (an operator's retry). */
  async retryNow(eventId: string, now: number): Promise<void> {
    await this.store.db.updateTable('fulfilment_outbox').set({ next_attempt_at: now }).where('event_id', '=', eventId).where('state', '=', 'PENDING').execute();
  }
}
