/*
 * One binding's access token is used by pays and replaced by the relay's refresh, never both at
 * once: a refresh rotates both tokens and the old access token stops working (Antom applyToken
 * REFRESH_TOKEN), so a pay sent with it meanwhile would fail INVALID_ACCESS_TOKEN for nothing.
 *
 * - A pay reads the token only while the binding is ACTIVE (shared/domain canSendToken), in the
 *   transaction that inserts its intent SUBMITTED with the pay's lease (PurchaseRepo.begin). A
 *   pay that finds the binding REFRESHING waits for the refresh's end (purchase-service.ts).
 * - A refresh commits REFRESHING only in a transaction that first found no pay of the binding in
 *   flight (purchase-repo.ts `tokenInUse`); otherwise it defers itself (bindings/binding-worker.ts).
 *
 * Race-free on PostgreSQL under READ COMMITTED by the binding's advisory lock (`tokenLockKey`):
 * relay_pay_begin takes it shared before it reads the binding row (store/migrations-0010.ts),
 * `tokenInUse` exclusive in a statement of its own before its check, so each side's next
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
