import { sql } from 'kysely';
import type { Store } from './db.ts';

/** The statement that announces changes to the other relay processes (PostgreSQL NOTIFY), on the listen connection. */
export const NOTIFY_STATEMENT = 'select pg_notify($1, $2)';

/** The same announcement through the store's pool, when the listen connection is down. */
export async function notifyThroughPool(store: Store, channel: string, payload: string): Promise<void> {
  await sql`select pg_notify(${channel}, ${payload})`.execute(store.db);
}
