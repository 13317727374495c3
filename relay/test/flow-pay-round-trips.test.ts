import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDevice } from './support/client.ts';
import { notificationKey } from '../src/antom/notification-dedupe.ts';
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

/**
 * The statements of a payment notification for a purchase the pay answer already settled: the
 * dedupe read, the purchase read (the handler's update when it adds to the row, outcome
 * `applied`; none when `duplicate`), then the dedupe key and the audit
 * row in one relaxed commit (antom/notification-repo.ts). SQLite: prepared statements, no Kysely;
 * PostgreSQL: one statement for both rows.
 */
const SQLITE_NOTIFICATION = [
  'select outcome from notification_dedupe where kind = ? and n',
  'select * from purchases where payment_request_id = ?',
  'BEGIN',
  'insert into notification_dedupe (kind, notification_key, out',
  'insert into notifications (id, kind, ref, outcome, received_',
  'COMMIT',
];
const PG_NOTIFICATION = [
  'select "outcome" from "notification_dedupe"',
  'select * from "purchases" where "payment_request_id"',
  'with "key" as (insert into "notification_dedupe"',
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

    it('a payment notification after the pay answer: two reads and one commit for its records', async () => {
      const audited = async () => (await s.relay.store.db.selectFrom('notifications').select('id').where('kind', '=', 'payment').execute()).length;
      /** Sends the withheld notifications and waits until the relay has audited each. */
      const release = async (): Promise<void> => {
        const before = await audited();
        const released = Number((await s.admin('POST', '/notifications/release')).body['released']);
        for (let i = 0; i < 300 && (await audited()) < before + released; i++) await new Promise((r) => setTimeout(r, 10));
      };
      await release(); // the earlier tests' withheld ones
      // Two: the U pay's notification, sent whenever its inquiry resolves it, may take one.
      await s.admin('POST', '/notifications/faults', { mode: 'withhold', count: 2 });
      const [device, bindingId] = pays[1] as [TestDevice, string];
      const intent = uuid();
      const res = await device.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: intent });
      expect(res.body['state']).toBe('SUCCEEDED');
      const { payment_request_id } = await s.relay.store.db
        .selectFrom('purchases')
        .select('payment_request_id')
        .where('intent_id', '=', intent)
        .executeTakeFirstOrThrow();
      const body = { notifyType: 'PAYMENT_RESULT', paymentRequestId: payment_request_id, result: { resultStatus: 'S', resultCode: 'SUCCESS' } };
      // The key and the audit row are the notification's last statement(s), in one commit.
      const keyOf = () =>
        s.relay.store.db
          .selectFrom('notification_dedupe')
          .select('outcome')
          .where('notification_key', '=', notificationKey('payment', body) as string)
          .executeTakeFirst();
      const counter = countRequestStatements('POST', '/antom/notify/payment');
      let key: { outcome: string } | undefined;
      try {
        await s.admin('POST', '/notifications/release');
        for (let i = 0; i < 300 && !key; i++) {
          key = await keyOf();
          if (!key) await new Promise((r) => setTimeout(r, 10));
        }
      } finally {
        counter.stop();
        await s.admin('DELETE', '/faults');
      }
      if (!key) throw new Error('the notification was not recorded within 3 s');
      // The handler writes the purchase only when the notification adds to it (paid_at, payment_id): 'applied'.
      const base = engine.name === 'postgres' ? PG_NOTIFICATION : SQLITE_NOTIFICATION;
      const expectedNotification =
        key.outcome === 'applied'
          ? [...base.slice(0, 2), engine.name === 'postgres' ? 'update "purchases" set' : 'update purchases set', ...base.slice(2)]
          : base;
      expect(['applied', 'duplicate']).toContain(key.outcome);
      // Another purchase's notification (the U pay's, sent once its inquiry resolved it) may land in the window too.
      const logs = counter.logs.map((log) =>
        log.statements.filter((st) => !st.startsWith('select pg_notify(')).map((st, i) => st.slice(0, expectedNotification[i]?.length)),
      );
      expect(logs, JSON.stringify(counter.logs)).toContainEqual(expectedNotification);
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
