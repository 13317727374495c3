import { type Kysely, type Migration, PostgresAdapter, sql } from 'kysely';

/**
 * `relay_pay_begin(p jsonb)`, PostgreSQL only (issue 17, "PostgreSQL in 2 round trips per
 * pay"): everything a pay writes and reads before its Antom call, as one statement and so one
 * round trip and one commit. In order: the device is still enrolled (else nothing is written);
 * the request's nonce is recorded (its primary key refuses a replay); an existing purchase of
 * the intent id is returned (idempotency); the caller's binding is read; then, only when the
 * gates the caller computed from the rules' single owners pass (payable binding states, the
 * kiosk visit, the wallet's price and per-transaction limits, the spending windows and their
 * caps), the spending keys are locked (the same transaction-scoped advisory locks, ids and
 * order as purchase-repo.ts lockId), the windows summed, and the intent inserted.
 *
 * The function decides whether to insert; it never names a refusal. Whatever it refuses comes
 * back as facts (binding, the device's current visit, the sums) and the purchase service finds
 * the typed error with the same rule functions as the SQLite path, so the codes and their
 * order have one owner. A refusal still commits the nonce, as the separate nonce commit did.
 * SQLite has the same decision in payments/purchase-sqlite-repo.ts (one writer serialises the spending checks).
 */
const payBegin = sql`
create or replace function relay_pay_begin(p jsonb) returns jsonb language plpgsql as $fn$
declare
  d record;
  b record;
  existing purchases;
  w jsonb;
  acct text;
  amount bigint;
  facts jsonb;
  spent jsonb;
  acct_day bigint := 0;
  acct_year bigint := 0;
  owner_day bigint := 0;
  owner_month bigint := 0;
  counted text[] := array(select jsonb_array_elements_text(p->'counted'));
begin
  select revoked_at, visit_id into d from devices where id = p->>'device_id';
  if not found or d.revoked_at is not null then
    return jsonb_build_object('outcome', 'DEVICE_NOT_ENROLLED');
  end if;
  insert into nonces (device_id, nonce, seen_at) values (p->>'device_id', p->>'nonce', (p->>'seen_at')::bigint)
    on conflict do nothing;
  if not found then
    return jsonb_build_object('outcome', 'REQUEST_REPLAYED');
  end if;
  select * into existing from purchases where intent_id = p->>'intent_id';
  if found then
    return jsonb_build_object('outcome', 'EXISTING', 'purchase', to_jsonb(existing));
  end if;
  select * into b from bindings where id = p->>'binding_id' and owner = p->>'owner';
  if not found then
    return jsonb_build_object('outcome', 'BINDING_NOT_FOUND');
  end if;
  facts := jsonb_build_object(
    'binding', jsonb_build_object('id', b.id, 'state', b.state, 'wallet', b.wallet, 'account_ref', b.account_ref,
      'key_id', b.key_id, 'access_token_enc', b.access_token_enc, 'visit_id', b.visit_id),
    'device_visit', d.visit_id);
  w := p->'wallets'->b.wallet;
  if not (b.state in (select jsonb_array_elements_text(p->'payable')))
     or (p->>'visit_id' is not null and not (p->>'kiosk')::boolean)
     or ((p->>'kiosk')::boolean and (p->>'visit_id' is distinct from b.visit_id or (b.visit_id is not null and d.visit_id is distinct from b.visit_id)))
     or w is null or (w->>'refuse')::boolean then
    return facts || jsonb_build_object('outcome', 'CHECK');
  end if;
  acct := coalesce(b.account_ref, b.id);
  amount := (w->>'amount_minor')::bigint;
  perform pg_advisory_xact_lock(k.id) from (
    select distinct ('x' || left(encode(sha256(convert_to(key, 'UTF8')), 'hex'), 16))::bit(64)::bigint as id
    from unnest(array['owner:' || (p->>'owner'), 'account:' || acct]) as key
  ) k order by k.id::text collate "C";
  select coalesce(sum(case when created_at >= (w->>'day_from')::bigint and created_at < (w->>'day_to')::bigint then amount_minor else 0 end), 0),
         coalesce(sum(case when created_at >= (w->>'year_from')::bigint and created_at < (w->>'year_to')::bigint then amount_minor else 0 end), 0)
    into acct_day, acct_year
    from purchases
    where account_ref = acct and currency = w->>'currency' and state = any(counted)
      and created_at >= least((w->>'day_from')::bigint, (w->>'year_from')::bigint)
      and created_at < greatest((w->>'day_to')::bigint, (w->>'year_to')::bigint);
  if w->>'cap_daily' is not null or w->>'cap_monthly' is not null then
    select coalesce(sum(case when created_at >= (w->>'day_from')::bigint and created_at < (w->>'day_to')::bigint then amount_minor else 0 end), 0),
           coalesce(sum(case when created_at >= (w->>'month_from')::bigint and created_at < (w->>'month_to')::bigint then amount_minor else 0 end), 0)
      into owner_day, owner_month
      from purchases
      where owner = p->>'owner' and currency = w->>'currency' and state = any(counted)
        and created_at >= least((w->>'day_from')::bigint, (w->>'month_from')::bigint)
        and created_at < greatest((w->>'day_to')::bigint, (w->>'month_to')::bigint);
  end if;
  spent := jsonb_build_object('acct_day', acct_day, 'acct_year', acct_year, 'owner_day', owner_day, 'owner_month', owner_month);
  if (w->>'max_day' is not null and acct_day + amount > (w->>'max_day')::bigint)
     or (w->>'max_year' is not null and acct_year + amount > (w->>'max_year')::bigint)
     or (w->>'cap_daily' is not null and owner_day + amount > (w->>'cap_daily')::bigint)
     or (w->>'cap_monthly' is not null and owner_month + amount > (w->>'cap_monthly')::bigint) then
    return facts || jsonb_build_object('outcome', 'CHECK', 'spent', spent);
  end if;
  insert into purchases select * from jsonb_populate_record(null::purchases, p->'row' || jsonb_build_object(
    'binding_id', b.id, 'wallet', b.wallet, 'account_ref', b.account_ref, 'currency', w->>'currency', 'amount_minor', amount))
    on conflict do nothing;
  if not found then
    -- The same intent id inserted meanwhile by a concurrent request (it held no lock we take).
    select * into existing from purchases where intent_id = p->>'intent_id';
    return jsonb_build_object('outcome', 'EXISTING', 'purchase', to_jsonb(existing));
  end if;
  return facts || jsonb_build_object('outcome', 'INSERTED', 'spent', spent);
end
$fn$`;

/** Creates relay_pay_begin on PostgreSQL; nothing on SQLite. */
export const payBeginFunction: Migration = {
  async up(db: Kysely<unknown>) {
    if (db.getExecutor().adapter instanceof PostgresAdapter) await payBegin.execute(db);
  },
};
