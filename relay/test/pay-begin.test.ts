import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { BindingRepo } from '../src/bindings/binding-repo.ts';
import { offsetClock } from '../src/clock.ts';
import { EventHub } from '../src/events.ts';
import { createLogger } from '../src/logger.ts';
import { COUNTED, insertPurchase, lockId, type PayBeginInput, type PayBeginWallet, PurchaseRepo, type PurchaseRow } from '../src/payments/purchase-repo.ts';
import { tokenInUse } from '../src/payments/purchase-repo.ts';
import { tokenLockKey } from '../src/payments/token-use.ts';
import type { Store } from '../src/store/db.ts';
import type { BindingsTable } from '../src/store/schema.ts';
import { engines, uuid } from './support/env.ts';
import { purchaseRow, useStore } from './support/rows.ts';

/*
 * PurchaseRepo.begin, the pay's first part (issue 17), on each engine with the same inputs and
 * the same expected answers: relay_pay_begin on PostgreSQL and the prepared SQLite transaction
 * (payments/purchase-sqlite-repo.ts) must decide alike, gate by gate.
 */

const DAY = 86_400_000;

/** A binding row with every column; `patch` sets the ones a case is about. */
function binding(patch: Partial<BindingsTable> & Pick<BindingsTable, 'id' | 'owner'>, now: number): BindingsTable {
  return {
    device_id: 'dev',
    player_id: null,
    wallet: 'ALIPAY_HK',
    state: 'ACTIVE',
    version: 1,
    error_code: null,
    auth_state: null,
    code_value: null,
    code_expires_at: null,
    refreshes_left: 0,
    key_id: 'k1',
    auth_code_enc: null,
    auth_code_at: null,
    access_token_enc: 'sealed-token',
    access_token_hash: `hash-${patch.id}`,
    access_token_expires_at: null,
    refresh_token_enc: null,
    refresh_token_expires_at: null,
    masked_account: null,
    account_ref: `acct-${patch.id}`,
    next_action_at: null,
    lease_until: null,
    created_at: now,
    updated_at: now,
    activated_at: now,
    touched_at: now,
    visit_id: null,
    ...patch,
  };
}

for (const engine of engines()) {
  describe.skipIf(engine.skip !== undefined)(`PurchaseRepo.begin on ${engine.name}`, () => {
    if (engine.skip) console.warn(engine.skip);
    const opened = useStore(engine.name);
    const clock = offsetClock();
    let store: Store;
    let repo: PurchaseRepo;
    const now = clock.now();
    const device = uuid();
    const kiosk = uuid();

    beforeAll(async () => {
      store = opened.store;
      repo = new PurchaseRepo(store, clock, new EventHub(), createLogger('silent'));
      const dev = { label: 'd', secret_enc: 's', key_id: 'k1', created_at: now };
      await store.db
        .insertInto('devices')
        .values([
          { ...dev, id: device, kind: 'launcher', revoked_at: null, visit_id: null },
          { ...dev, id: kiosk, kind: 'kiosk', revoked_at: null, visit_id: 'visit-now' },
          { ...dev, id: 'revoked', kind: 'launcher', revoked_at: now, visit_id: null },
        ])
        .execute();
      await store.db
        .insertInto('bindings')
        .values([
          binding({ id: 'b-mine', owner: 'player:me' }, now),
          binding({ id: 'b-capped', owner: 'player:capped' }, now),
          binding({ id: 'b-theirs', owner: 'player:them' }, now),
          binding({ id: 'b-expired', owner: 'player:me', state: 'EXPIRED' }, now),
          binding({ id: 'b-kiosk', owner: `device:${kiosk}`, visit_id: 'visit-now' }, now),
          binding({ id: 'b-old-visit', owner: `device:${kiosk}`, visit_id: 'visit-old' }, now),
          binding({ id: 'b-refresh', owner: 'player:refresh' }, now),
          binding({ id: 'b-leases', owner: 'player:leases' }, now),
          binding({ id: 'b-dead', owner: 'player:dead', access_token_expires_at: now + DAY, next_action_at: now + DAY }, now),
        ])
        .execute();
    });

    /** An HKD gate of 1000 minor units with a daily account limit of 2500. */
    const gate = (patch: Partial<PayBeginWallet> = {}): PayBeginWallet => ({
      refuse: false,
      currency: 'HKD',
      amount_minor: 1000,
      day_from: now - DAY / 2,
      day_to: now + DAY / 2,
      year_from: now - 100 * DAY,
      year_to: now + 100 * DAY,
      month_from: now - 10 * DAY,
      month_to: now + 10 * DAY,
      max_day: 2500,
      max_year: null,
      cap_daily: null,
      cap_monthly: null,
      ...patch,
    });

    /** A pay of binding `bindingId` by `owner` from `deviceId` (a fresh nonce and intent unless given). */
    const input = (o: {
      owner: string;
      bindingId: string;
      deviceId?: string;
      nonce?: string;
      intentId?: string;
      kiosk?: boolean;
      visitId?: string | null;
      wallet?: PayBeginWallet;
    }): PayBeginInput => {
      const intentId = o.intentId ?? uuid();
      return {
        device_id: o.deviceId ?? device,
        nonce: o.nonce ?? uuid(),
        seen_at: now,
        intent_id: intentId,
        owner: o.owner,
        binding_id: o.bindingId,
        kiosk: o.kiosk ?? false,
        visit_id: o.visitId ?? null,
        payable: ['ACTIVE'],
        counted: COUNTED,
        row: {
          ...purchaseRow(intentId, now),
          owner: o.owner,
          device_id: o.deviceId ?? device,
          binding_id: o.bindingId,
          wallet: '',
          account_ref: null,
          currency: '',
          amount_minor: 0,
          payment_request_id: `pay_${intentId.replace(/-/gu, '')}`,
        },
        wallets: { ALIPAY_HK: o.wallet ?? gate(), DANA: { refuse: true } },
      };
    };
    const nonces = async (deviceId: string): Promise<number> =>
      (await store.db.selectFrom('nonces').select('nonce').where('device_id', '=', deviceId).execute()).length;
    const stored = (intentId: string): Promise<PurchaseRow | undefined> => repo.get(intentId);
    const facts = (id: string) => ({
      id,
      state: 'ACTIVE',
      wallet: 'ALIPAY_HK',
      account_ref: `acct-${id}`,
      key_id: 'k1',
      access_token_enc: 'sealed-token',
      access_token_hash: `hash-${id}`,
    });

    it('an unknown or disabled device: DEVICE_NOT_ENROLLED, nothing written (not even the nonce)', async () => {
      const unknown = uuid();
      expect(await repo.begin(input({ owner: 'player:me', bindingId: 'b-mine', deviceId: unknown }))).toEqual({ outcome: 'DEVICE_NOT_ENROLLED' });
      const p = input({ owner: 'player:me', bindingId: 'b-mine', deviceId: 'revoked' });
      expect(await repo.begin(p)).toEqual({ outcome: 'DEVICE_NOT_ENROLLED' });
      expect(await nonces(unknown)).toBe(0);
      expect(await nonces('revoked')).toBe(0);
      expect(await stored(p.intent_id)).toBeUndefined();
    });

    it('accepts: the intent inserted exactly (the binding completes the row), the sums it was checked against', async () => {
      const p = input({ owner: 'player:me', bindingId: 'b-mine' });
      const answer = await repo.begin(p);
      expect(answer).toEqual({
        outcome: 'INSERTED',
        binding: { ...facts('b-mine'), visit_id: null },
        device_visit: null,
        spent: { acct_day: 0, acct_year: 0, owner_day: 0, owner_month: 0 },
      });
      expect(await stored(p.intent_id)).toEqual({
        ...p.row,
        wallet: 'ALIPAY_HK',
        account_ref: 'acct-b-mine',
        currency: 'HKD',
        amount_minor: 1000,
        access_token_hash: 'hash-b-mine',
      });
    });

    it('the nonce is recorded inside the pay: the same nonce again is REQUEST_REPLAYED, nothing inserted', async () => {
      const open = gate({ max_day: null });
      const first = input({ owner: 'player:me', bindingId: 'b-mine', wallet: open });
      expect((await repo.begin(first)).outcome).toBe('INSERTED');
      const again = { ...input({ owner: 'player:me', bindingId: 'b-mine', wallet: open }), nonce: first.nonce };
      expect(await repo.begin(again)).toEqual({ outcome: 'REQUEST_REPLAYED' });
      expect(await stored(again.intent_id)).toBeUndefined();
      // The same nonce from another device is another request.
      const kioskPay = input({
        owner: `device:${kiosk}`,
        bindingId: 'b-kiosk',
        deviceId: kiosk,
        kiosk: true,
        visitId: 'visit-now',
        nonce: first.nonce ?? undefined,
      });
      expect((await repo.begin(kioskPay)).outcome).toBe('INSERTED');
    });

    it('an existing intent id is returned as stored, before the binding is even read', async () => {
      const p = input({ owner: 'player:me', bindingId: 'b-mine', wallet: gate({ max_day: null }) });
      expect((await repo.begin(p)).outcome).toBe('INSERTED');
      const row = await stored(p.intent_id);
      const replay = input({ owner: 'player:them', bindingId: 'b-nowhere', intentId: p.intent_id });
      expect(await repo.begin(replay)).toEqual({ outcome: 'EXISTING', purchase: row });
      expect(await nonces(device)).toBeGreaterThan(0);
    });

    it("another owner's binding and an unknown binding: BINDING_NOT_FOUND, the nonce still recorded", async () => {
      const before = await nonces(device);
      const theirs = input({ owner: 'player:me', bindingId: 'b-theirs' });
      expect(await repo.begin(theirs)).toEqual({ outcome: 'BINDING_NOT_FOUND' });
      expect(await repo.begin(input({ owner: 'player:me', bindingId: uuid() }))).toEqual({ outcome: 'BINDING_NOT_FOUND' });
      expect(await nonces(device)).toBe(before + 2);
      expect(await stored(theirs.intent_id)).toBeUndefined();
    });

    it('the gates before the sums: a binding state that cannot pay, a refused price, a visit that is not current', async () => {
      const cases: [PayBeginInput, string | null][] = [
        [input({ owner: 'player:me', bindingId: 'b-expired' }), null],
        [input({ owner: 'player:me', bindingId: 'b-mine', wallet: { refuse: true } }), null],
        [input({ owner: 'player:me', bindingId: 'b-mine', visitId: 'visit-now' }), null],
        [input({ owner: `device:${kiosk}`, bindingId: 'b-kiosk', deviceId: kiosk, kiosk: true, visitId: 'visit-other' }), 'visit-now'],
        [input({ owner: `device:${kiosk}`, bindingId: 'b-kiosk', deviceId: kiosk, kiosk: true }), 'visit-now'],
        [input({ owner: `device:${kiosk}`, bindingId: 'b-old-visit', deviceId: kiosk, kiosk: true, visitId: 'visit-old' }), 'visit-now'],
      ];
      for (const [p, deviceVisit] of cases) {
        const answer = await repo.begin(p);
        expect(answer).toMatchObject({ outcome: 'CHECK', binding: { id: p.binding_id }, device_visit: deviceVisit });
        expect(answer).not.toHaveProperty('spent');
        expect(await stored(p.intent_id)).toBeUndefined();
      }
      // The kiosk's own binding in its current visit passes every gate.
      const current = input({ owner: `device:${kiosk}`, bindingId: 'b-kiosk', deviceId: kiosk, kiosk: true, visitId: 'visit-now' });
      expect(await repo.begin(current)).toMatchObject({
        outcome: 'INSERTED',
        binding: { ...facts('b-kiosk'), visit_id: 'visit-now' },
        device_visit: 'visit-now',
      });
    });

    it('the spending windows: counted states only, the limit refuses with the sums and inserts nothing', async () => {
      // A FAILED purchase of the same account in the window does not count.
      const failed = {
        ...purchaseRow(uuid(), now),
        account_ref: 'acct-b-capped',
        owner: 'player:capped',
        currency: 'HKD',
        amount_minor: 5000,
        state: 'FAILED',
      };
      await insertPurchase.execute(store.db, store.dialect, failed);
      // Neither does one before the day's window (it counts for the year).
      const older = { ...purchaseRow(uuid(), now - DAY), account_ref: 'acct-b-capped', owner: 'player:capped', currency: 'HKD', amount_minor: 700 };
      await insertPurchase.execute(store.db, store.dialect, older);
      const caps = gate({ cap_daily: 2500, cap_monthly: 2600, max_day: null });
      const first = input({ owner: 'player:capped', bindingId: 'b-capped', wallet: caps });
      expect(await repo.begin(first)).toMatchObject({
        outcome: 'INSERTED',
        spent: { acct_day: 0, acct_year: 700, owner_day: 0, owner_month: 700 },
      });
      const second = input({ owner: 'player:capped', bindingId: 'b-capped', wallet: caps });
      expect(await repo.begin(second)).toMatchObject({
        outcome: 'CHECK',
        binding: facts('b-capped'),
        spent: { acct_day: 1000, acct_year: 1700, owner_day: 1000, owner_month: 1700 },
      });
      expect(await stored(second.intent_id)).toBeUndefined();
      // The account's own daily limit (max_day) refuses the same way.
      const daily = input({ owner: 'player:capped', bindingId: 'b-capped', wallet: gate({ max_day: 1999 }) });
      expect(await repo.begin(daily)).toMatchObject({ outcome: 'CHECK', spent: { acct_day: 1000, owner_day: 0, owner_month: 0 } });
      expect(await stored(daily.intent_id)).toBeUndefined();
    });

    it('waits for a transaction Kysely holds open on the connection and never joins it', async () => {
      const p = input({ owner: 'player:me', bindingId: 'b-mine', wallet: gate({ max_day: null }) });
      let begun: Promise<unknown> | undefined;
      // The outer transaction writes, lets the pay start, then fails: its rollback must not take the pay with it.
      await expect(
        store.db.transaction().execute(async (trx) => {
          await trx.insertInto('nonces').values({ device_id: device, nonce: 'rolled-back', seen_at: now }).execute();
          begun = repo.begin(p);
          await new Promise((r) => setTimeout(r, 20));
          throw new Error('outer transaction fails');
        }),
      ).rejects.toThrow('outer transaction fails');
      expect(await begun).toMatchObject({ outcome: 'INSERTED' });
      expect(await stored(p.intent_id)).toMatchObject({ state: 'SUBMITTED' });
      const kept = await store.db.selectFrom('nonces').select('nonce').where('device_id', '=', device).where('nonce', 'in', ['rolled-back', p.nonce]).execute();
      expect(kept.map((n) => n.nonce)).toEqual([p.nonce]);
      // The outcome's update waits the same way.
      let applied: Promise<unknown> | undefined;
      await expect(
        store.db.transaction().execute(async (trx) => {
          await trx.insertInto('nonces').values({ device_id: device, nonce: 'rolled-back-2', seen_at: now }).execute();
          applied = repo.apply(p.intent_id, 'PAY_SUCCEEDED', { payment_id: 'p-1' });
          await new Promise((r) => setTimeout(r, 20));
          throw new Error('outer transaction fails');
        }),
      ).rejects.toThrow('outer transaction fails');
      expect(await applied).toMatchObject({ changed: true, row: { state: 'SUCCEEDED', version: 2 } });
      expect(await stored(p.intent_id)).toMatchObject({ state: 'SUCCEEDED', version: 2, payment_id: 'p-1' });
    });
    /** Resolves once a session waits for an advisory lock (PostgreSQL: pg_locks). */
    const lockWaiter = async (): Promise<void> => {
      for (let i = 0; i < 500; i++) {
        const r = await sql<{ n: number }>`select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`.execute(store.db);
        if ((r.rows[0]?.n ?? 0) > 0) return;
        await new Promise((res) => setTimeout(res, 10));
      }
      throw new Error('no session ever waited for an advisory lock');
    };

    if (engine.name !== 'postgres') {
      console.warn(
        "the two token-lock races below are PostgreSQL's: SQLite's pay never runs inside an open Kysely transaction (the 'waits for a transaction Kysely holds open' case above)",
      );
    }
    it.skipIf(engine.name !== 'postgres')(
      "a refresh holding the binding's token lock: a pay begun meanwhile waits, then reads REFRESHING and inserts nothing",
      async () => {
        const p = input({ owner: 'player:refresh', bindingId: 'b-refresh', wallet: gate({ max_day: null }) });
        let begun: Promise<unknown> | undefined;
        await store.db.transaction().execute(async (trx) => {
          expect(await tokenInUse(trx, store.dialect, { id: 'b-refresh', owner: 'player:refresh' }, now)).toBe(false);
          begun = repo.begin(p);
          await lockWaiter();
          await trx.updateTable('bindings').set({ state: 'REFRESHING' }).where('id', '=', 'b-refresh').execute();
        });
        expect(await begun).toMatchObject({ outcome: 'CHECK', binding: { id: 'b-refresh', state: 'REFRESHING' } });
        expect(await stored(p.intent_id)).toBeUndefined();
        await store.db.updateTable('bindings').set({ state: 'ACTIVE' }).where('id', '=', 'b-refresh').execute();
      },
    );

    it.skipIf(engine.name !== 'postgres')("a pay holding the binding's token lock: a refresh's check waits, then sees the pay in flight", async () => {
      const intent = uuid();
      let checked: Promise<boolean> | undefined;
      await store.db.transaction().execute(async (trx) => {
        // What relay_pay_begin does: the shared lock, then the intent insert, committed at the end.
        await sql`select pg_advisory_xact_lock_shared(${lockId(tokenLockKey('b-refresh'))}::bigint)`.execute(trx);
        await insertPurchase.execute(trx, store.dialect, {
          ...purchaseRow(intent, now),
          owner: 'player:refresh',
          binding_id: 'b-refresh',
          lease_until: now + 30_000,
        });
        checked = store.db.transaction().execute((check) => tokenInUse(check, store.dialect, { id: 'b-refresh', owner: 'player:refresh' }, now));
        await lockWaiter();
      });
      expect(await checked).toBe(true);
    });

    it('a pay in flight is a SUBMITTED purchase of the binding whose lease has not run out', async () => {
      const owner = 'player:leases';
      const inFlight = () => store.db.transaction().execute((trx) => tokenInUse(trx, store.dialect, { id: 'b-leases', owner }, now));
      const row = (patch: Partial<PurchaseRow>): PurchaseRow => ({ ...purchaseRow(uuid(), now), owner, binding_id: 'b-leases', ...patch });
      await insertPurchase.execute(store.db, store.dialect, row({ lease_until: now - 1 }));
      await insertPurchase.execute(store.db, store.dialect, row({ lease_until: null }));
      await insertPurchase.execute(store.db, store.dialect, row({ state: 'PROCESSING', lease_until: now + 30_000 }));
      await insertPurchase.execute(store.db, store.dialect, row({ binding_id: 'b-other', lease_until: now + 30_000 }));
      expect(await inFlight()).toBe(false);
      await insertPurchase.execute(store.db, store.dialect, row({ lease_until: now + 30_000 }));
      expect(await inFlight()).toBe(true);
    });

    it('markTokenDead marks only the token that was refused, never a newer one', async () => {
      const bindings = new BindingRepo(store, clock, new EventHub());
      const read = () => store.db.selectFrom('bindings').selectAll().where('id', '=', 'b-dead').executeTakeFirstOrThrow();
      await bindings.markTokenDead('b-dead', 'hash-of-a-rotated-token');
      expect(await read()).toMatchObject({ access_token_expires_at: now + DAY, next_action_at: now + DAY });
      await bindings.markTokenDead('b-dead', 'hash-b-dead');
      const marked = await read();
      expect(marked.access_token_expires_at).toBeLessThanOrEqual(clock.now());
      expect(marked.next_action_at).toBe(marked.access_token_expires_at);
    });
  });
}
