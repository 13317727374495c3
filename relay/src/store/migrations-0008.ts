import { type Kysely, type Migration, PostgresAdapter, sql } from 'kysely';

/**
 * `relay_pay_begin_many(p jsonb)`, PostgreSQL only (issue 17, "Group commit of durable
 * writes"): the begins of many pays (a JSON array of relay_pay_begin inputs) as one statement,
 * so one round trip and one commit; it returns one answer per item, in order
 * (payments/pay-batch-repo.ts forms the batches).
 *
 * Deadlocks: every item takes transaction-scoped advisory locks (its owner and its wallet account,
 * relay_pay_begin) that are held until the commit, so a batch holds the locks of all its items at
 * once. Two batches running at once (from two relay processes, and from one: a relay has up to
 * config databasePayInFlight begin statements in flight, PayBeginBatcher) taking them item by item
 * could take them in crossing orders and deadlock. So the batch first resolves every item's
 * binding (its account), then takes the locks of the whole batch in one statement, in the one
 * global order relay_pay_begin and purchase-repo.ts lockSpending use (the lock id as text, "C"
 * collation; the id is the first 8 bytes of the key's SHA-256, purchase-repo.ts lockId). Each
 * item's own locks are then already held (advisory locks are re-entrant). The other rows an item
 * waits on are its nonce (one device, so one owner: covered by the owner lock) and its intent id
 * (the same owner's retry: covered too; only an id reused by another owner at the same moment can
 * wait across owners, which PostgreSQL's deadlock detector breaks, failing that item alone). A
 * binding whose account changes between the two reads takes its new account's lock late, the same
 * way as a single relay_pay_begin.
 *
 * Each item runs relay_pay_begin (the one owner of a pay's rules in SQL) in its own sub-block
 * with an exception handler: an item that fails is rolled back to its own savepoint and
 * answers `{"outcome": "ERROR", sqlstate, message}`, and the other items commit. Every such
 * sub-block that writes is a subtransaction; the batch size is bounded (config
 * databasePayBatchMax ≤ 64) to stay within PostgreSQL's per-backend cache of 64
 * subtransaction ids, beyond which every backend's snapshots slow down.
 */
const payBeginMany = sql`
create or replace function relay_pay_begin_many(p jsonb) returns jsonb language plpgsql as $fn$
declare
  item jsonb;
  answer jsonb;
  answers jsonb := '[]'::jsonb;
begin
  perform pg_advisory_xact_lock(k.id) from (
    select distinct ('x' || left(encode(sha256(convert_to(key, 'UTF8')), 'hex'), 16))::bit(64)::bigint as id
    from (
      select 'owner:' || (i->>'owner') as key from jsonb_array_elements(p) i
      union all
      select 'account:' || coalesce(b.account_ref, b.id)
        from jsonb_array_elements(p) i join bindings b on b.id = i->>'binding_id' and b.owner = i->>'owner'
    ) keys
    where key is not null
  ) k order by k.id::text collate "C";
  for item in select value from jsonb_array_elements(p) loop
    begin
      answer := relay_pay_begin(item);
    exception when others then
      answer := jsonb_build_object('outcome', 'ERROR', 'sqlstate', sqlstate, 'message', sqlerrm);
    end;
    answers := answers || jsonb_build_array(answer);
  end loop;
  return answers;
end
$fn$`;

/** Creates relay_pay_begin_many on PostgreSQL; nothing on SQLite. */
export const payBeginManyFunction: Migration = {
  async up(db: Kysely<unknown>) {
    if (db.getExecutor().adapter instanceof PostgresAdapter) await payBeginMany.execute(db);
  },
};
