import { type Kysely, type Migration, PostgresAdapter, sql } from 'kysely';

/*
 * A pay and a token refresh of one binding exclude each other (a refresh rotates both tokens
 * and the old access token stops working, Antom applyToken REFRESH_TOKEN): payments/token-use.ts
 * owns the rule; this migration gives the store what it needs.
 *
 * - `purchases.access_token_hash` (both engines): the lookup hash of the token a pay was sent
 *   with, so a refusal INVALID_ACCESS_TOKEN marks that token dead and never a newer one
 *   (BindingRepo.markTokenDead).
 * - relay_pay_begin (PostgreSQL), replacing migration 0007's: before the binding row is read
 *   it takes the binding's advisory lock SHARED (token-use.ts tokenLockKey: 'binding:' and the
 *   id, hashed as purchase-repo.ts lockId), which a refresh holds EXCLUSIVE while it checks for
 *   pays in flight and commits REFRESHING. Under READ COMMITTED each statement of this VOLATILE
 *   function reads a fresh snapshot, so the binding read after the lock sees a REFRESHING that
 *   was committed while the pay waited; and the refresh's check, a statement after its own lock,
 *   sees every intent committed under a shared lock it waited for. The binding's token hash is
 *   returned with its facts and written into the intent. A null `nonce` skips the nonce step: the
 *   second begin of a pay that waited for a refresh (its first begin recorded the nonce).
 * - relay_pay_begin_many (PostgreSQL), replacing migration 0008's: the batch's pre-pass takes
 *   the shared binding locks of all its items first, then the spending locks, each set in the
 *   one global order (lock id as text, "C" collation), so every pay statement takes binding
 *   locks before spending locks as relay_pay_begin does, and two statements cannot take them in
 *   crossing orders. A refresh takes one binding lock and waits for nothing a pay holds besides.
 *
 * Everything else is migration 0007's and 0008's text unchanged (their comments hold).
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
  if p->>'nonce' is not null then
    insert into nonces (device_id, nonce, seen_at) values (p->>'device_id', p->>'nonce', (p->>'seen_at')::bigint)
      on conflict do nothing;
    if not found then
      return jsonb_build_object('outcome', 'REQUEST_REPLAYED');
    end if;
  end if;
  select * into existing from purchases where intent_id = p->>'intent_id';
  if found then
    return jsonb_build_object('outcome', 'EXISTING', 'purchase', to_jsonb(existing));
  end if;
  perform pg_advisory_xact_lock_shared(('x' || left(encode(sha256(convert_to('binding:' || (p->>'binding_id'), 'UTF8')), 'hex'), 16))::bit(64)::bigint);
  select * into b from bindings where id = p->>'binding_id' and owner = p->>'owner';
  if not found then
    return jsonb_build_object('outcome', 'BINDING_NOT_FOUND');
  end if;
  facts := jsonb_build_object(
    'binding', jsonb_build_object('id', b.id, 'state', b.state, 'wallet', b.wallet, 'account_ref', b.account_ref,
      'key_id', b.key_id, 'access_token_enc', b.access_token_enc, 'access_token_hash', b.access_token_hash, 'visit_id', b.visit_id),
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
    'binding_id', b.id, 'wallet', b.wallet, 'account_ref', b.account_ref, 'currency', w->>'currency', 'amount_minor', amount,
    'access_token_hash', b.access_token_hash))
    on conflict do nothing;
  if not found then
    -- The same intent id inserted meanwhile by a concurrent request (it held no lock we take).
    select * into existing from purchases where intent_id = p->>'intent_id';
    return jsonb_build_object('outcome', 'EXISTING', 'purchase', to_jsonb(existing));
  end if;
  return facts || jsonb_build_object('outcome', 'INSERTED', 'spent', spent);
end
$fn$`;

const payBeginMany = sql`
create or replace function relay_pay_begin_many(p jsonb) returns jsonb language plpgsql as $fn$
declare
  item jsonb;
  answer jsonb;
  answers jsonb := '[]'::jsonb;
begin
  perform pg_advisory_xact_lock_shared(k.id) from (
    select distinct ('x' || left(encode(sha256(convert_to('binding:' || (i->>'binding_id'), 'UTF8')), 'hex'), 16))::bit(64)::bigint as id
    from jsonb_array_elements(p) i
    where i->>'binding_id' is not null
  ) k order by k.id::text collate "C";
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

/** Adds purchases.access_token_hash; on PostgreSQL replaces relay_pay_begin and relay_pay_begin_many. */
export const tokenUseExclusion: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('purchases').addColumn('access_token_hash', 'text').execute();
    if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
    await payBegin.execute(db);
    await payBeginMany.execute(db);
  },
};
