import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDevice } from './support/client.ts';
import { engines, uuid } from './support/env.ts';
import { bind, type Stack, startStack } from './support/stack.ts';
import { countRequestStatements, type StatementLog } from './support/statements.ts';

/*
 * Statements per accepted pay, from the request reaching the relay to its answer (the Antom
 * call sends none; the sandbox's notification is another request): issue 17, "PostgreSQL in 2
 * round trips per pay". Each PostgreSQL statement is one round trip.
 */

/**
 * The statements of an accepted pay on SQLite (their beginnings): one synchronous transaction
 * of prepared statements with relay_pay_begin's steps (payments/purchase-sqlite-repo.ts), then the
 * outcome in one statement. Authentication reads nothing once the device is known.
 */
const SQLITE_PAY = [
  'BEGIN IMMEDIATE',
  'select revoked_at, visit_id from devices where id = ?',
  'insert into nonces (device_id, nonce, seen_at)',
  'select * from purchases where intent_id = ?',
  'select id, state, wallet, account_ref, key_id, access_token_',
  'select coalesce(sum(',
  'insert into purchases (',
  'COMMIT',
  'update purchases set',
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
    const expected = engine.name === 'postgres' ? ['select relay_pay_begin($1::jsonb) as r', 'update "purchases" set'] : SQLITE_PAY;
    /**
     * A pay's statements cut to the length of the expected beginnings. Not a round trip of the
     * pay: the change announcement to other relay processes (NOTIFY) goes out after the commit,
     * batched over 5 ms for every change in that window, and the answer never waits for it
     * (change-watcher.ts; batching tested in change-watcher.test.ts).
     */
    const ofThePay = (log: StatementLog | undefined): string[] =>
      (log?.statements ?? []).filter((st) => !st.startsWith('select pg_notify(')).map((st, i) => st.slice(0, expected[i]?.length));

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
      // Before issue 17's change: PostgreSQL 10 round trips (device, nonce, purchase, binding,
      // begin, locks, sums, insert, commit, outcome); SQLite 11 statements through Kysely
      // (device, nonce between two pragmas, purchase, binding, begin, sum, insert, commit, outcome).
      for (const log of [kiosk, launcher]) expect(ofThePay(log)).toEqual(expected);
    });

    it('a pay answered U: PROCESSING, the lease released and the first inquiry scheduled in the outcome statement', async () => {
      await s.admin('POST', '/faults', { endpoint: 'pay', mode: 'U', count: 1, resolveAs: 'S', resolveAfterInquiries: 1 });
      const [device, bindingId] = pays[0] as [TestDevice, string];
      const counter = countRequestStatements('POST', '/v1/purchases');
      const intent = uuid();
      let res: Awaited<ReturnType<TestDevice['request']>>;
      try {
        res = await device.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: intent });
      } finally {
        counter.stop();
        await s.admin('DELETE', '/faults');
      }
      expect(res.body['state']).toBe('PROCESSING');
      expect(ofThePay(counter.logs[0])).toEqual(expected);
      const row = await s.relay.store.db.selectFrom('purchases').selectAll().where('intent_id', '=', intent).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ state: 'PROCESSING', lease_until: null });
      expect(row.next_check_at).toBeGreaterThan(row.created_at);
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
