import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDevice } from './support/client.ts';
import { engines, uuid } from './support/env.ts';
import { bind, type Stack, startStack } from './support/stack.ts';
import { countRequestStatements } from './support/statements.ts';

/*
 * Statements per accepted pay, from the request reaching the relay to its answer (the Antom
 * call sends none; the sandbox's notification is another request): issue 17, "PostgreSQL in 2
 * round trips per pay". Each PostgreSQL statement is one round trip.
 */

/**
 * The statements of an accepted pay on SQLite (their beginnings). Since group commit (issue 17)
 * the relaxed nonce insert switches no pragma: no commit fsyncs, durable ones wait for the WAL
 * barrier instead (store/sqlite-durable.ts).
 */
const SQLITE_PAY = [
  'select * from "devices" where "id" = ?',
  'insert into "nonces"',
  'select * from "purchases" where "intent_id" = ?',
  'select * from "bindings" where "id" = ? and "owner" = ?',
  'begin',
  'select sum(',
  'insert into "purchases"',
  'commit',
  'update "purchases" set',
];

for (const engine of engines()) {
  describe.skipIf(engine.skip !== undefined)(`statements of one accepted pay (${engine.name})`, () => {
    if (engine.skip) console.warn(engine.skip);
    let s: Stack;
    let pays: [TestDevice, string][] = [];
    beforeAll(async () => {
      s = await startStack(engine.name);
      pays = [
        [s.kiosk, await bind(s.kiosk, 'ALIPAY_HK')],
        [s.launcher, await bind(s.launcher, 'DANA')],
      ];
    });
    afterAll(async () => s?.close());

    it('a kiosk pay and a launcher pay', async () => {
      // The sandbox's notifications wait, so the pay answer is what settles each purchase.
      await s.admin('POST', '/notifications/faults', { mode: 'withhold', count: 2 });
      const counter = countRequestStatements('POST', '/v1/purchases');
      try {
        for (const [device, bindingId] of pays) {
          const res = await device.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() });
          expect(res.body['state']).toBe('SUCCEEDED');
        }
      } finally {
        counter.stop();
      }
      const [kiosk, launcher] = counter.logs;
      // Not a round trip of the pay: the change announcement to other relay processes (NOTIFY)
      // goes out after the commit, batched over 5 ms for every change in that window, and the
      // answer never waits for it (change-watcher.ts; batching tested in change-watcher.test.ts).
      const ofThePay = (statements: readonly string[]) => statements.filter((st) => !st.startsWith('select pg_notify('));
      // Before issue 17's change: PostgreSQL 10 round trips (device, nonce, purchase, binding,
      // begin, locks, sums, insert, commit, outcome); SQLite 11 statements.
      const expected = engine.name === 'postgres' ? ['select relay_pay_begin($1::jsonb) as r', 'update "purchases" set'] : SQLITE_PAY;
      for (const log of [kiosk, launcher]) {
        expect(ofThePay(log?.statements ?? []).map((st, i) => st.slice(0, expected[i]?.length))).toEqual(expected);
      }
    });

    it('a successful pay and its notification write no line at info (issue 17: logging costs nothing per pay)', async () => {
      const notifications = async () => (await s.relay.store.db.selectFrom('notifications').select('id').where('kind', '=', 'payment').execute()).length;
      const before = await notifications();
      const from = s.logs.length;
      const [device, bindingId] = pays[0] as [TestDevice, string];
      const res = await device.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: uuid() });
      expect(res.body['state']).toBe('SUCCEEDED');
      // The sandbox's notifyPayment for it has been handled (its audit row is written before the line).
      for (let i = 0; i < 200 && (await notifications()) === before; i++) await new Promise((r) => setTimeout(r, 10));
      expect(await notifications()).toBeGreaterThan(before);
      const info = s.logs.slice(from).filter((l) => (JSON.parse(l) as { level: number }).level >= 30);
      expect(info).toEqual([]);
    });
  });
}
