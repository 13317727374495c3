import { sql, type Transaction } from 'kysely';
import type { Dialect } from '../store/db.ts';
import type { Database } from '../store/schema.ts';
import { lockId } from './purchase-repo.ts';

/*
 * One binding's access token is used by pays and replaced by the relay's refresh, never both at
 * once: a refresh rotates both tokens and the old access token stops working (Antom applyToken
 * REFRESH_TOKEN), so a pay sent with it meanwhile would fail INVALID_ACCESS_TOKEN for nothing.
 *
 * - A pay reads the token only while the binding is ACTIVE (shared/domain canSendToken), in the
 *   transaction that inserts its intent SUBMITTED with the pay's lease (PurchaseRepo.begin). A
 *   pay that finds the binding REFRESHING waits for the refresh's end (purchase-service.ts).
 * - A refresh commits REFRESHING only in a transaction that first found no pay of the binding in
 *   flight (`payInFlight`); otherwise it defers itself (bindings/binding-worker.ts).
 *
 * Race-free on PostgreSQL under READ COMMITTED by the binding's advisory lock (`tokenLockKey`):
 * relay_pay_begin takes it shared before it reads the binding row (store/migrations-0010.ts),
 * `payInFlight` exclusive in a statement of its own before its check, so each side's next
 * statement reads what the other committed. On SQLite the pay's synchronous transaction never
 * runs while a Kysely transaction is open on the one connection (purchase-sqlite-repo.ts
 * `busy`), so the refresh's check and REFRESHING commit as one step against it.
 */

/** The advisory lock key of a binding's token use (hashed by purchase-repo.ts lockId, as relay_pay_begin does in SQL). */
export function tokenLockKey(bindingId: string): string {
  return `binding:${bindingId}`;
}

/** How soon a refresh that found a pay in flight looks again (a pay's call takes a second or two; refreshes are due minutes before expiry). */
export const PAY_IN_FLIGHT_RETRY_MS = 1_000;

/**
 * In a refresh's transaction, before REFRESH_STARTED: true while a pay of the binding may still
 * be sending the current access token. That is a purchase SUBMITTED whose lease has not run out:
 * the pay holds it from its intent insert to its answer (SUCCEEDED/FAILED end it, PROCESSING
 * releases it), and a pay whose process died stops holding it once the lease expires (the
 * payment worker then inquires; it never pays again). On PostgreSQL it first takes the
 * binding's token lock exclusively, held until the commit.
 */
export async function payInFlight(trx: Transaction<Database>, dialect: Dialect, binding: { id: string; owner: string }, now: number): Promise<boolean> {
  if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${lockId(tokenLockKey(binding.id))}::bigint)`.execute(trx);
  // By owner first: the purchases_owner index finds the player's few rows (no index on binding_id).
  const inFlight = await trx
    .selectFrom('purchases')
    .select('intent_id')
    .where('owner', '=', binding.owner)
    .where('binding_id', '=', binding.id)
    .where('state', '=', 'SUBMITTED')
    .where('lease_until', '>', now)
    .limit(1)
    .executeTakeFirst();
  return inFlight !== undefined;
}
