import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { insertPurchase, PurchaseRepo, type PurchaseRow, purchaseByPaymentRequest } from '../src/payments/purchase-repo.ts';
import { offsetClock } from '../src/clock.ts';
import { EventHub } from '../src/events.ts';
import { createLogger } from '../src/logger.ts';
import type { Store } from '../src/store/db.ts';
import { Prepared } from '../src/store/prepared.ts';
import { engines, uuid } from './support/env.ts';
import { purchaseRow as purchase, useStore } from './support/rows.ts';

for (const engine of engines()) {
  describe.skipIf(engine.skip !== undefined)(`prepared statements and relaxed commits on ${engine.name}`, () => {
    if (engine.skip) console.warn(engine.skip);
    const opened = useStore(engine.name);
    const clock = offsetClock();
    let store: Store;
    beforeAll(() => {
      store = opened.store;
    });

    it('a prepared insert stores every column exactly; prepared reads find it like Kysely does', async () => {
      const row = purchase(uuid(), clock.now());
      await insertPurchase.execute(store.db, store.dialect, row);
      const viaKysely = await store.db.selectFrom('purchases').selectAll().where('intent_id', '=', row.intent_id).executeTakeFirstOrThrow();
      expect(viaKysely).toEqual(row);
      expect(await purchaseByPaymentRequest.first(store.db, store.dialect, { payment_request_id: row.payment_request_id })).toEqual(row);
      // Reused with other arguments: the same compiled statement, new values.
      const other = { ...purchase(uuid(), clock.now() + 1), player_id: 'p-7', amount_minor: 5 };
      await insertPurchase.execute(store.db, store.dialect, other);
      expect(await purchaseByPaymentRequest.first(store.db, store.dialect, { payment_request_id: other.payment_request_id })).toEqual(other);
      expect(await purchaseByPaymentRequest.first(store.db, store.dialect, { payment_request_id: 'pay_none' })).toBeUndefined();
    });

    it('the prepared update of PurchaseRepo.apply changes only its row', async () => {
      const repo = new PurchaseRepo(store, clock, new EventHub(), createLogger('silent'));
      const [a, b] = [purchase(uuid(), clock.now()), purchase(uuid(), clock.now())];
      await insertPurchase.execute(store.db, store.dialect, a);
      await insertPurchase.execute(store.db, store.dialect, b);
      const res = await repo.apply(a.intent_id, 'PAY_SUCCEEDED', { payment_id: 'pid-1', result_code: 'SUCCESS' });
      expect(res?.row).toMatchObject({ state: 'SUCCEEDED', version: 2, payment_id: 'pid-1', next_check_at: null });
      expect(await repo.get(a.intent_id)).toEqual(res?.row);
      expect(await repo.get(b.intent_id)).toEqual(b);
    });

    it('refuses arguments that would not be bound parameters, and missing arguments, before running anything', async () => {
      const inlined = new Prepared<{ dir: string }, unknown>((d, arg) =>
        d
          .selectFrom('purchases')
          .selectAll()
          .orderBy(sql.raw(arg('dir'))),
      );
      await expect(inlined.execute(store.db, store.dialect, { dir: 'created_at' })).rejects.toThrow(/inlined/u);
      const unused = new Prepared<{ id: string }, unknown>((d, arg) => {
        arg('id');
        return d.selectFrom('purchases').selectAll();
      });
      await expect(unused.execute(store.db, store.dialect, { id: 'x' })).rejects.toThrow(/not a bound parameter/u);
      const row = purchase(uuid(), clock.now());
      const { payment_id: _gone, ...partial } = row;
      await expect(insertPurchase.execute(store.db, store.dialect, partial as PurchaseRow)).rejects.toThrow(/argument payment_id missing/u);
      expect(await store.db.selectFrom('purchases').select('intent_id').where('intent_id', '=', row.intent_id).executeTakeFirst()).toBeUndefined();
    });

    it('relaxed() runs its statements and commits them', async () => {
      const n = await store.relaxed(async (d) => {
        await d.insertInto('nonces').values({ device_id: 'dev-r', nonce: 'n-1', seen_at: 1 }).execute();
        return 7;
      });
      expect(n).toBe(7);
      expect(await store.db.selectFrom('nonces').select('nonce').where('device_id', '=', 'dev-r').execute()).toEqual([{ nonce: 'n-1' }]);
    });

    it('apply() starts from a stale known row safely: it re-reads and applies to the current state', async () => {
      const repo = new PurchaseRepo(store, clock, new EventHub(), createLogger('silent'));
      const row = purchase(uuid(), clock.now());
      await insertPurchase.execute(store.db, store.dialect, row);
      expect((await repo.apply(row.intent_id, 'PAY_UNKNOWN'))?.row).toMatchObject({ state: 'PROCESSING', version: 2 });
      const res = await repo.apply(row.intent_id, 'PAY_SUCCEEDED', { payment_id: 'p-9' }, row);
      expect(res).toMatchObject({ changed: true, row: { state: 'SUCCEEDED', version: 3, payment_id: 'p-9' } });
      expect(await repo.get(row.intent_id)).toMatchObject({ state: 'SUCCEEDED', version: 3 });
    });

    it('concurrent contradicting outcomes: exactly one is applied, once', async () => {
      const repo = new PurchaseRepo(store, clock, new EventHub(), createLogger('silent'));
      const row = purchase(uuid(), clock.now());
      await insertPurchase.execute(store.db, store.dialect, row);
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => repo.apply(row.intent_id, i % 2 ? 'PAY_FAILED' : 'PAY_SUCCEEDED', { result_code: `R${i}` }, row)),
      );
      const changed = results.filter((r) => r?.changed);
      expect(changed).toHaveLength(1);
      const stored = await repo.get(row.intent_id);
      expect(stored).toMatchObject({ version: 2, state: changed[0]?.row.state, result_code: changed[0]?.row.result_code });
    });

    it("apply() writes only the columns it sets: a worker's lease taken meanwhile stays", async () => {
      const repo = new PurchaseRepo(store, clock, new EventHub(), createLogger('silent'));
      const row = { ...purchase(uuid(), clock.now()), lease_until: null };
      await insertPurchase.execute(store.db, store.dialect, row);
      expect(await repo.claim(row.intent_id, 60_000)).toBe(true);
      await repo.apply(row.intent_id, 'PAY_UNKNOWN', { result_code: 'UNKNOWN_EXCEPTION' }, row);
      const stored = await repo.get(row.intent_id);
      expect(stored).toMatchObject({ state: 'PROCESSING', version: 2, result_code: 'UNKNOWN_EXCEPTION' });
      expect(stored?.lease_until).toBeGreaterThan(clock.now());
    });

    it('a success and its fulfilment hook commit together: a failing hook leaves the purchase as it was', async () => {
      const repo = new PurchaseRepo(store, clock, new EventHub(), createLogger('silent'));
      const row = purchase(uuid(), clock.now());
      await insertPurchase.execute(store.db, store.dialect, row);
      repo.onSucceeded = async () => Promise.reject(new Error('outbox down'));
      await expect(repo.apply(row.intent_id, 'PAY_SUCCEEDED', {}, row)).rejects.toThrow('outbox down');
      expect(await repo.get(row.intent_id)).toEqual(row);
      const seen: string[] = [];
      repo.onSucceeded = async (_trx, r) => {
        seen.push(`${r.state} v${r.version}`);
      };
      expect((await repo.apply(row.intent_id, 'PAY_SUCCEEDED', {}, row))?.row.state).toBe('SUCCEEDED');
      expect(seen).toEqual(['SUCCEEDED v2']);
    });

    if (engine.name === 'sqlite') {
      // Since group commit (issue 17) every commit runs synchronous=NORMAL; a durable one waits
      // for a WAL flush (Store.flushes counts the barriers asked for), a relaxed one for none.
      const flushesAsked = (): number => store.flushes?.requests ?? Number.NaN;
      const insertNonce = (d: Store['db']) => d.insertInto('nonces').values({ device_id: 'd-relaxed', nonce: uuid(), seen_at: clock.now() }).execute();

      it('on SQLite, relaxed() commits ask for no WAL flush, other commits do, and other queries wait for relaxed()', async () => {
        const asked = flushesAsked();
        await insertNonce(store.db);
        expect(flushesAsked()).toBe(asked + 1);
        const order: string[] = [];
        let release: () => void = () => undefined;
        const gate = new Promise<void>((r) => {
          release = r;
        });
        const relaxed = store.relaxed(async (d) => {
          await insertNonce(d);
          order.push('relaxed start');
          await gate;
          order.push('relaxed end');
        });
        await new Promise((r) => setTimeout(r, 10));
        const other = store.db
          .selectFrom('nonces')
          .select('nonce')
          .execute()
          .then(async () => {
            order.push('other query');
          });
        await new Promise((r) => setTimeout(r, 20));
        release();
        await Promise.all([relaxed, other]);
        expect(order).toEqual(['relaxed start', 'relaxed end', 'other query']);
        expect(flushesAsked()).toBe(asked + 1);
      });

      it('on SQLite, a failing relaxed() body leaves later commits durable', async () => {
        await expect(store.relaxed(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
        const asked = flushesAsked();
        await insertNonce(store.db);
        expect(flushesAsked()).toBe(asked + 1);
      });
    }
  });
}
