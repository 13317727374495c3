import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationDedupe, notificationKey } from '../src/antom/notification-dedupe.ts';
import { NotificationRepo } from '../src/antom/notification-repo.ts';
import { startRelay } from '../src/index.ts';
import { engines, uuid } from './support/env.ts';
import { bind, notifyRelay, type Stack, startStack } from './support/stack.ts';

const PATH = '/antom/notify/payment';
const HOUR = 3_600_000;

/** ISO 8601 at UTC+8, as the sandbox (and Antom's Python and PHP SDKs) write Request-Time. */
const iso8 = (ms: number): string => `${new Date(ms + 8 * HOUR).toISOString().slice(0, 19)}+08:00`;

for (const engine of engines()) {
  describe.skipIf(engine.skip !== undefined)(`notification request-time and deduplication (${engine.name})`, () => {
    if (engine.skip) console.warn(engine.skip);
    let s: Stack;
    let bindingId: string;
    beforeAll(async () => {
      s = await startStack(engine.name);
      bindingId = await bind(s.kiosk, 'ALIPAY_HK');
    });
    afterAll(async () => s?.close());

    const notify = (url: string, body: string, requestTime: string) => notifyRelay(s, url, PATH, body, requestTime);
    /** A purchase left PROCESSING: pay answers U and never resolves, the worker is stopped. */
    const pendingPurchase = async () => {
      const intent = uuid();
      await s.admin('POST', '/faults', { endpoint: 'pay', mode: 'U', count: 1, resolveAs: 'never' });
      const pending = await s.kiosk.request('POST', '/v1/purchases', { bindingId, sku: 'gems-100', quantity: 1, purchaseIntentId: intent });
      expect(pending.body['state']).toBe('PROCESSING');
      const body = JSON.stringify({
        notifyType: 'PAYMENT_RESULT',
        paymentRequestId: `pay_${intent.replace(/-/g, '')}`,
        paymentAmount: { currency: 'HKD', value: '1200' },
        result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
      });
      return { intent, body };
    };
    const state = async (intent: string) => (await s.kiosk.request('GET', `/v1/purchases/${intent}`)).body['state'];
    /** The outcomes in `after` beyond those in `before`, sorted (the audit table has no order of its own: WITHOUT ROWID, by id). */
    const added = (before: string[], after: string[]): string[] => {
      const left = [...before];
      return after
        .filter((o) => {
          const i = left.indexOf(o);
          if (i < 0) return true;
          left.splice(i, 1);
          return false;
        })
        .sort();
    };
    const outcomes = async () =>
      (await s.relay.store.db.selectFrom('notifications').select('outcome').where('kind', '=', 'payment').execute()).map((r) => r.outcome);

    it('refuses a signed notification from 2001, older than 25 h, more than 5 min ahead or with a garbled time; changes nothing', async () => {
      await s.relay.worker.stop();
      try {
        const { intent, body } = await pendingPurchase();
        const now = s.clock.now();
        const before = await outcomes();
        for (const time of ['978307200000', iso8(Date.UTC(2001, 0, 1)), String(now - 25 * HOUR - 60_000), iso8(now + 6 * 60_000), 'yesterday', '']) {
          const res = await notify(s.relay.url, body, time);
          expect(res.status, time).toBe(401);
          expect(res.body).toMatchObject({ result: { resultCode: time === '' ? 'INVALID_SIGNATURE' : 'INVALID_REQUEST_TIME', resultStatus: 'F' } });
        }
        expect(await state(intent)).toBe('PROCESSING');
        expect(await outcomes()).toEqual(before);
        // Antom's last retry is 24 h after the first delivery; a clock 4 min ahead is skew.
        const late = await notify(s.relay.url, body, String(now - 24 * HOUR - 30 * 60_000));
        expect(late.body).toEqual({ result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' } });
        expect(await state(intent)).toBe('SUCCEEDED');
        const second = await pendingPurchase();
        expect((await notify(s.relay.url, second.body, iso8(now + 4 * 60_000))).status).toBe(200);
        expect(await state(second.intent)).toBe('SUCCEEDED');
      } finally {
        s.relay.worker.start();
        await s.admin('DELETE', '/faults');
      }
    });

    it('deduplicates by (kind, identity) in the store: a repeat to another relay process is acknowledged and handled by none', async () => {
      await s.relay.worker.stop();
      const other = await startRelay(s.config, { clock: s.clock, manualWorker: true });
      try {
        const { intent, body } = await pendingPurchase();
        const before = await outcomes();
        expect((await notify(s.relay.url, body, String(s.clock.now()))).status).toBe(200);
        expect(await state(intent)).toBe('SUCCEEDED');
        // Antom's retry (a new request-time) reaching the second relay on the same database.
        const retry = await notify(other.url, body, iso8(s.clock.now()));
        expect(retry.status).toBe(200);
        expect(retry.body).toEqual({ result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' } });
        expect(added(before, await outcomes())).toEqual(['applied', 'duplicate']);
        const key = notificationKey('payment', JSON.parse(body) as Record<string, unknown>) as string;
        const rows = await s.relay.store.db.selectFrom('notification_dedupe').selectAll().where('notification_key', '=', key).execute();
        expect(rows.map((r) => [r.kind, r.outcome])).toEqual([['payment', 'applied']]);

        // A key already in the store is not handled again: here the purchase stays PROCESSING.
        const held = await pendingPurchase();
        const heldKey = notificationKey('payment', JSON.parse(held.body) as Record<string, unknown>) as string;
        await new NotificationDedupe(new NotificationRepo(s.relay.store)).remember('payment', heldKey, 'applied', s.clock.now());
        expect((await notify(other.url, held.body, String(s.clock.now()))).status).toBe(200);
        expect(await state(held.intent)).toBe('PROCESSING');
        // The same purchase with another outcome (F) is another notification, and is handled.
        const failed = held.body.replace('"resultCode":"SUCCESS","resultStatus":"S"', '"resultCode":"PROCESS_FAIL","resultStatus":"F"');
        expect((await notify(s.relay.url, failed, String(s.clock.now()))).status).toBe(200);
        expect(await state(held.intent)).toBe('FAILED');
      } finally {
        await other.close();
        s.relay.worker.start();
        await s.admin('DELETE', '/faults');
      }
    });
  });
}
