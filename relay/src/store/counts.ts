import type { Store } from './db.ts';

/** Tables with a `state` column whose rows in some states are counted (backlog metrics). */
type Counted = 'purchases' | 'refunds' | 'fulfilment_outbox';

/** How many rows of `table` are in one of `states` (the backlog gauges of /metrics). */
export async function countWhere(store: Store, table: Counted, states: string[]): Promise<number> {
  const r = await store.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('state', 'in', states)
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}
